import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectOutputs } from '../../../src/artifacts/collect-outputs.js';
import { FsArtifactStore } from '../../../src/artifacts/fs-artifact-store.js';
import { mkfifo } from './make-fifo.js';

let dir: string;
let outputs: string;
let store: FsArtifactStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-outputs-'));
  outputs = join(dir, 'outputs');
  mkdirSync(outputs);
  store = new FsArtifactStore(join(dir, 'store'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(path: string, content: string): void {
  const full = join(outputs, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
}

const sha = (content: string) =>
  createHash('sha256').update(content).digest('hex');

describe('collectOutputs', () => {
  it('stores nested files with POSIX relative paths', async () => {
    write('model.pkl', 'model');
    write('plots/a/roc.png', 'png');

    const result = await collectOutputs(outputs, store);

    expect(result).toEqual({
      files: [
        { path: 'model.pkl', size: 5, sha256: sha('model'), tags: [] },
        { path: 'plots/a/roc.png', size: 3, sha256: sha('png'), tags: [] },
      ],
      skipped: [],
    });
    expect(await store.has(sha('model'))).toBe(true);
  });

  it('reads tags, alias and properties from sidecars and the jsonl file', async () => {
    write('model.pkl', 'model');
    write(
      'model.pkl.metadata.json',
      JSON.stringify({
        'valohai.tags': ['prod', 'prod', 'v2'],
        'valohai.alias': 'model-prod',
        accuracy: 0.9,
      }),
    );
    write('data/train.csv', 'csv');
    write(
      'valohai.metadata.jsonl',
      [
        JSON.stringify({ file: 'data/train.csv', metadata: { rows: 1 } }),
        JSON.stringify({
          file: './data/train.csv',
          metadata: { rows: 2, 'valohai.tags': ['raw'] },
        }),
        JSON.stringify({
          file: 'model.pkl',
          metadata: { accuracy: 0.1, source: 'jsonl' },
        }),
        'not json',
      ].join('\n'),
    );

    const result = await collectOutputs(outputs, store);

    expect(result.files).toEqual([
      {
        path: 'data/train.csv',
        size: 3,
        sha256: sha('csv'),
        tags: ['raw'],
        properties: { rows: 2 },
      },
      {
        path: 'model.pkl',
        size: 5,
        sha256: sha('model'),
        tags: ['prod', 'v2'],
        alias: 'model-prod',
        properties: { accuracy: 0.9, source: 'jsonl' },
      },
    ]);
    expect(result.skipped).toEqual([
      {
        path: 'valohai.metadata.jsonl:4',
        reason: expect.stringContaining('expected'),
      },
    ]);
  });

  it('reports a broken sidecar and still stores the file', async () => {
    write('a.txt', 'a');
    write('a.txt.metadata.json', '{broken');

    const result = await collectOutputs(outputs, store);

    expect(result.files.map((f) => f.path)).toEqual(['a.txt']);
    expect(result.skipped).toEqual([
      { path: 'a.txt.metadata.json', reason: 'metadata is not a JSON object' },
    ]);
  });

  it('never follows symlinks, inside or outside the folder', async () => {
    write('real.txt', 'real');
    symlinkSync('/etc', join(outputs, 'etc'));
    symlinkSync('/proc/self/environ', join(outputs, 'metrics.json'));
    symlinkSync(join(outputs, 'real.txt'), join(outputs, 'inside.txt'));
    symlinkSync('/etc/hostname', join(outputs, 'x.metadata.json'));
    mkfifo(join(outputs, 'pipe'));

    const result = await collectOutputs(outputs, store);

    expect(result.files.map((f) => f.path)).toEqual(['real.txt']);
    expect(result.skipped.map((s) => s.path).sort()).toEqual([
      'etc',
      'inside.txt',
      'metrics.json',
      'pipe',
      'x.metadata.json',
    ]);
    expect(result.skipped.find((s) => s.path === 'etc')?.reason).toMatch(
      /symbolic link/,
    );
  });

  it('collects nothing when the outputs folder itself is a symlink', async () => {
    const linked = join(dir, 'linked-outputs');
    symlinkSync('/etc', linked);

    const result = await collectOutputs(linked, store);

    expect(result.files).toEqual([]);
    expect(result.skipped).toEqual([
      { path: '.', reason: expect.stringContaining('not a directory') },
    ]);
  });

  it('returns nothing for a missing outputs folder', async () => {
    const result = await collectOutputs(join(dir, 'none'), store);

    expect(result).toEqual({ files: [], skipped: [] });
  });

  it('stops at the file limit and the depth limit with a reason', async () => {
    for (let i = 0; i < 5; i++) write(`f${i}.txt`, `content ${i}`);
    write('a/b/c/deep.txt', 'deep');

    const result = await collectOutputs(outputs, store, {
      maxFiles: 3,
      maxDepth: 2,
    });

    expect(result.files).toHaveLength(3);
    expect(result.skipped).toContainEqual({
      path: '.',
      reason: 'more than 3 output files; the rest were not collected',
    });
    const deep = await collectOutputs(outputs, store, { maxDepth: 2 });
    expect(deep.skipped).toEqual([
      { path: 'a/b/c', reason: 'deeper than 2 directory levels' },
    ]);
  });

  it('skips names with control characters', async () => {
    write('bad\nname.txt', 'x');
    write('good.txt', 'y');

    const result = await collectOutputs(outputs, store);

    expect(result.files.map((f) => f.path)).toEqual(['good.txt']);
    expect(result.skipped).toEqual([
      { path: '"bad\\nname.txt"', reason: 'name contains control characters' },
    ]);
  });
});
