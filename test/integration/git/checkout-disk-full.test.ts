/**
 * A checkout on a full disk (reliability plan F20: "checkout fails
 * cleanly; partial checkout never reused"): the materialiser's cache on a
 * small real file system that holds the fetched commit but not its tree.
 * The checkout fails with a git error saying the disk is full, leaves no
 * half-written tree behind, and once there is room the same commit is
 * checked out whole.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitError } from '../../../src/git/git-error.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import {
  haveSmallFilesystems,
  mountSmallFilesystem,
  type SmallFilesystem,
} from '../../helpers/small-filesystem.js';
import { createTestRepo, makeTempDir, removeTempDir } from './git-fixture.js';

describe.skipIf(!haveSmallFilesystems())('a checkout on a full disk', () => {
  let root: string;
  let disk: SmallFilesystem;
  beforeEach(() => {
    root = makeTempDir('git-full');
    disk = mountSmallFilesystem({ megabytes: 5 });
  });
  afterEach(() => {
    disk?.close();
    removeTempDir(root);
  });

  it('fails saying the disk is full, leaves no partial tree, and works once there is room', async () => {
    const origin = createTestRepo(join(root, 'origin'));
    // Random bytes: git can't compress them, so the packed commit takes
    // 3 MB of the 5 and its tree (and the export's tar) can't fit.
    const data = randomBytes(3 * 1024 * 1024).toString('base64');
    const sha = origin.commit('big', {
      'kiln.yaml': 'a: 1\n',
      'data.txt': data,
    });
    const source = { id: 'local/origin', url: origin.dir };
    const materialiser = new GitMaterialiser({
      cacheDir: join(disk.path, 'cache'),
      fetchRetryDelayMs: 10,
    });

    const failure = await materialiser
      .acquireTree(source, sha)
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(GitError);
    expect((failure as GitError).message).toMatch(/no space left on device/i);
    const trees = join(disk.path, 'cache', 'trees');
    expect(readdirSync(trees)).toEqual([]);

    execFileSync('mount', ['-o', 'remount,size=40m', disk.path]);
    const tree = await materialiser.acquireTree(source, sha);

    expect(readFileSync(join(tree.path, 'data.txt'), 'utf8')).toBe(data);
    expect(readdirSync(trees)).toEqual([sha]);
    await tree.release();
  });
});
