import { createHash } from 'node:crypto';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../../src/artifacts/fs-artifact-store.js';
import { mkfifo } from './make-fifo.js';

let dir: string;
let store: FsArtifactStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-store-'));
  store = new FsArtifactStore(join(dir, 'store'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const sha = (content: string) =>
  createHash('sha256').update(content).digest('hex');

describe('FsArtifactStore', () => {
  it('stores content under its sha256, read-only, and reads it back', async () => {
    const content = 'weights\n'.repeat(10_000);

    const put = await store.put(file('model.bin', content));

    expect(put).toEqual({ sha256: sha(content), size: content.length });
    const blob = join(
      dir,
      'store',
      'sha256',
      put.sha256.slice(0, 2),
      put.sha256.slice(2),
    );
    expect(statSync(blob).mode & 0o777).toBe(0o444);
    expect(await store.has(put.sha256)).toBe(true);
    expect(await store.size(put.sha256)).toBe(content.length);
    expect(await text(await store.open(put.sha256))).toBe(content);
  });

  it('is idempotent: the same bytes twice give one blob and no temp files', async () => {
    const first = await store.put(file('a.txt', 'same'));
    const second = await store.put(file('b.txt', 'same'));
    const third = await Promise.all([
      store.put(file('c.txt', 'same')),
      store.put(file('d.txt', 'same')),
    ]);

    expect(second).toEqual(first);
    expect(third).toEqual([first, first]);
    expect(readFileSync(store.pathOf(first.sha256), 'utf8')).toBe('same');
    expect(readdirSync(join(dir, 'store', 'tmp'))).toEqual([]);
  });

  it('copyTo links or copies a read-only file, and replaces an existing one', async () => {
    const { sha256 } = await store.put(file('in.csv', 'a,b\n1,2\n'));
    const dest = join(dir, 'inputs', 'data', 'in.csv');

    await store.copyTo(sha256, dest);
    writeFileSync(join(dir, 'inputs', 'data', 'other.csv'), 'x');
    await store.copyTo(sha256, dest);

    expect(readFileSync(dest, 'utf8')).toBe('a,b\n1,2\n');
    expect(statSync(dest).mode & 0o222).toBe(0);
    expect(readdirSync(join(dir, 'inputs', 'data')).sort()).toEqual([
      'in.csv',
      'other.csv',
    ]);
  });

  it('answers unknown digests and rejects malformed ones', async () => {
    const unknown = sha('never stored');

    expect(await store.has(unknown)).toBe(false);
    expect(await store.size(unknown)).toBeNull();
    await expect(store.open(unknown)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(store.copyTo(unknown, join(dir, 'x'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(store.has('../../etc/passwd')).rejects.toMatchObject({
      code: 'INVALID_DIGEST',
    });
  });

  it('refuses symlinks and FIFOs without reading through them', async () => {
    const link = join(dir, 'link');
    symlinkSync('/etc/hostname', link);
    const fifo = join(dir, 'fifo');
    mkfifo(fifo);

    await expect(store.put(link)).rejects.toMatchObject({ code: 'IO_FAILED' });
    await expect(store.put(fifo)).rejects.toMatchObject({ code: 'NOT_A_FILE' });
    await expect(store.put(join(dir, 'missing'))).rejects.toMatchObject({
      code: 'IO_FAILED',
    });
  });
});
