/**
 * `kiln outputs --download` writes with saveArtifactCopy: the user gets a
 * file of their own, so editing it can never change a versioned artifact
 * (the store used to hand out hard links to its blobs).
 */
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../../src/artifacts/fs-artifact-store.js';
import { saveArtifactCopy } from '../../../src/artifacts/save-artifact-copy.js';

let dir: string;
let store: FsArtifactStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-save-copy-'));
  store = new FsArtifactStore(join(dir, 'store'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('saveArtifactCopy', () => {
  it('writes a separate, writable file; editing it leaves the blob alone', async () => {
    writeFileSync(join(dir, 'model.bin'), 'weights v1');
    const { sha256 } = await store.put(join(dir, 'model.bin'));
    const dest = join(dir, 'download', 'models', 'model.bin');

    await saveArtifactCopy(store, sha256, dest);
    writeFileSync(dest, 'edited by the user');

    const blob = store.pathOf(sha256);
    expect(statSync(dest).ino).not.toBe(statSync(blob).ino);
    expect(statSync(blob).nlink).toBe(1);
    expect(readFileSync(blob, 'utf8')).toBe('weights v1');
    expect(statSync(dest).mode & 0o200).toBe(0o200);
  });

  it('replaces an existing download', async () => {
    writeFileSync(join(dir, 'a.txt'), 'new bytes');
    const { sha256 } = await store.put(join(dir, 'a.txt'));
    const dest = join(dir, 'out.txt');
    writeFileSync(dest, 'old bytes, longer than the new ones');

    await saveArtifactCopy(store, sha256, dest);

    expect(readFileSync(dest, 'utf8')).toBe('new bytes');
  });

  it('writes nothing for a blob that is not stored', async () => {
    const dest = join(dir, 'missing.txt');

    await expect(
      saveArtifactCopy(store, 'a'.repeat(64), dest),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(() => statSync(dest)).toThrow();
  });
});
