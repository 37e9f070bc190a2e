/**
 * The local artifact store on a real, small file system (reliability plan
 * §8.3 F20, issue 11 item 3): a file that can't fit is refused with
 * `NO_SPACE` before anything is written — or stored anyway when the same
 * bytes are there already —, the reserve is kept free, and a failed write
 * is never reported as one skipped output among others. Sparse files stay
 * sparse (the probe's two `truncate -s 1G` outputs wrote 2 GB in 18 s).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactError } from '../../../src/artifacts/artifact-error.js';
import { collectOutputs } from '../../../src/artifacts/collect-outputs.js';
import { FsArtifactStore } from '../../../src/artifacts/fs-artifact-store.js';
import {
  haveSmallFilesystems,
  mountSmallFilesystem,
  type SmallFilesystem,
} from '../../helpers/small-filesystem.js';

const MiB = 1024 * 1024;
let dir: string;
let outputs: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-space-'));
  outputs = join(dir, 'outputs');
  mkdirSync(outputs);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function randomFile(name: string, bytes: number): string {
  const path = join(outputs, name);
  writeFileSync(path, randomBytes(bytes));
  return path;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof ArtifactError ? error.code : String(error);
  }
}

describe('sparse outputs', () => {
  it('stay sparse: a 1 GiB hole costs no blocks and no gigabyte of writes', async () => {
    const store = new FsArtifactStore(join(dir, 'store'));
    const path = join(outputs, 'hole.bin');
    const fd = openSync(path, 'w');
    writeSync(fd, Buffer.from('head'), 0, 4, 0);
    writeSync(fd, Buffer.from('tail'), 0, 4, 1024 * MiB - 4);
    ftruncateSync(fd, 1024 * MiB);
    closeSync(fd);

    const put = await store.put(path);

    expect(put.size).toBe(1024 * MiB);
    const blob = statSync(store.pathOf(put.sha256));
    expect(blob.size).toBe(1024 * MiB);
    // Two 64 KiB runs of data, the rest holes.
    expect(blob.blocks * 512).toBeLessThanOrEqual(256 * 1024);
  }, 60_000);
});

describe.skipIf(!haveSmallFilesystems())('a full artifact store', () => {
  let fs: SmallFilesystem;
  beforeEach(() => {
    fs = mountSmallFilesystem({ megabytes: 40 });
  });
  afterEach(() => {
    fs.close();
  });

  it('refuses a file that cannot fit before writing it, and leaves no partial blob', async () => {
    const store = new FsArtifactStore(fs.path);
    const first = await store.put(randomFile('a.bin', 30 * MiB));

    const second = store.put(randomFile('b.bin', 30 * MiB));

    expect(await codeOf(second)).toBe('NO_SPACE');
    await expect(second).rejects.toThrow(/artifact store at .* is full/);
    expect(await store.has(first.sha256)).toBe(true);
    expect(readdirSync(join(fs.path, 'tmp'))).toEqual([]);
  });

  it('stores bytes it has already even when full (nothing new to write)', async () => {
    const store = new FsArtifactStore(fs.path);
    const path = randomFile('a.bin', 30 * MiB);
    const first = await store.put(path);
    randomFile('filler.bin', 1);

    const again = await store.put(path);

    expect(again).toEqual(first);
  });

  it('keeps the reserve free', async () => {
    const store = new FsArtifactStore(fs.path, { reserveBytes: 20 * MiB });

    const put = store.put(randomFile('a.bin', 25 * MiB));

    expect(await codeOf(put)).toBe('NO_SPACE');
    expect(await store.freeBytes()).toBeGreaterThan(15 * MiB);
  });

  it('writes that fill the disk midway fail with NO_SPACE and leave no partial blob', async () => {
    // Both find 25 MiB free before they start; together they need 30.
    const store = new FsArtifactStore(fs.path);
    writeFileSync(join(fs.path, 'other-tenant.bin'), randomBytes(15 * MiB));
    const a = randomFile('a.bin', 15 * MiB);
    const b = randomFile('b.bin', 15 * MiB);

    const results = await Promise.allSettled([store.put(a), store.put(b)]);

    const codes = results.map((result) =>
      result.status === 'fulfilled'
        ? 'stored'
        : result.reason instanceof ArtifactError
          ? result.reason.code
          : String(result.reason),
    );
    // Interleaved, both may run out: never a silent success of a partial.
    expect(codes).toContain('NO_SPACE');
    expect(
      codes.every((code) => code === 'NO_SPACE' || code === 'stored'),
    ).toBe(true);
    for (const result of results) {
      if (result.status === 'fulfilled') {
        expect(statSync(store.pathOf(result.value.sha256)).size).toBe(15 * MiB);
      }
    }
    expect(readdirSync(join(fs.path, 'tmp'))).toEqual([]);
  });

  it('a collection that meets a full store fails as a whole, never one skipped output', async () => {
    const store = new FsArtifactStore(fs.path);
    randomFile('a.bin', 30 * MiB);
    randomFile('b.bin', 30 * MiB);

    const collected = collectOutputs(outputs, store);

    expect(await codeOf(collected)).toBe('NO_SPACE');
  });

  it('outputs over the per-execution limit are refused before anything is stored', async () => {
    const store = new FsArtifactStore(fs.path);
    randomFile('a.bin', 6 * MiB);
    randomFile('b.bin', 6 * MiB);

    const collected = collectOutputs(outputs, store, {
      maxTotalBytes: 10 * MiB,
    });

    expect(await codeOf(collected)).toBe('OUTPUT_LIMIT');
    await expect(collected).rejects.toThrow(
      /12\.0 MiB in all, over the limit of 10\.0 MiB per execution/,
    );
    expect(readdirSync(fs.path)).toEqual([]);
  });
});
