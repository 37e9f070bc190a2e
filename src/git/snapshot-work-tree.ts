import { createHash, randomBytes } from 'node:crypto';
import { copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { createGit } from './create-git.js';
import { GitError } from './git-error.js';
import { findWorkTreeRoot } from './find-work-tree-root.js';

export interface WorkTreeSnapshot {
  /** `~` + sha256 hex of the tree id: names an ad-hoc run's code version. */
  identifier: string;
  /** Tree object in the repository's object store; `acquireTree` takes it. */
  treeSha: string;
}

const timeoutMs = 120_000;

/**
 * Writes the work tree as it is now (tracked and untracked, not-ignored
 * files) into a tree object for `kiln run --adhoc`. Uses a temporary index,
 * so the user's staging area is untouched; the same content always gives the
 * same identifier.
 */
export async function snapshotWorkTree(dir: string): Promise<WorkTreeSnapshot> {
  const root = await findWorkTreeRoot(dir);
  const indexFile = join(
    tmpdir(),
    `kiln-index-${randomBytes(8).toString('hex')}`,
  );
  try {
    const gitPath = await createGit({ cwd: root, timeoutMs }).raw([
      'rev-parse',
      '--git-path',
      'index',
    ]);
    const userIndex = gitPath.trim();
    // Starting from a copy of the user's index lets git reuse its stat cache
    // instead of hashing every file again.
    await copyFile(
      isAbsolute(userIndex) ? userIndex : join(root, userIndex),
      indexFile,
    ).catch(() => undefined);
    const git = createGit({
      cwd: root,
      timeoutMs,
      env: { GIT_INDEX_FILE: indexFile },
    });
    await git.raw(['add', '-A', '--', '.']);
    const treeSha = (await git.raw(['write-tree'])).trim();
    const identifier = `~${createHash('sha256').update(treeSha).digest('hex')}`;
    return { identifier, treeSha };
  } catch (error) {
    if (error instanceof GitError) throw error;
    throw new GitError(
      'GIT_FAILED',
      `could not snapshot the work tree in ${root}: ${String(error).slice(0, 500)}`,
      { cause: error },
    );
  } finally {
    await rm(indexFile, { force: true });
  }
}
