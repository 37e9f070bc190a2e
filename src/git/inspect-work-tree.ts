import { createGit } from './create-git.js';
import { findWorkTreeRoot } from './find-work-tree-root.js';
import { isObjectId } from './object-id.js';

// The work-tree API for `kiln run` is imported from this module.
export { resolveRevision } from './resolve-revision.js';
export { snapshotWorkTree } from './snapshot-work-tree.js';
export type { WorkTreeSnapshot } from './snapshot-work-tree.js';

export interface WorkTreeState {
  /** Absolute top-level directory of the work tree. */
  root: string;
  /** Commit checked out, or null on a branch with no commits yet. */
  headSha: string | null;
  /** True when tracked files changed or untracked, not-ignored files exist. */
  dirty: boolean;
  /** Paths (relative to `root`) that make it dirty, sorted. */
  dirtyPaths: string[];
}

const timeoutMs = 60_000;

/** Parses `git status --porcelain=v1 -z`: a rename carries a second path. */
function parseStatus(output: string): string[] {
  const fields = output.split('\0');
  const paths: string[] = [];
  for (let index = 0; index < fields.length; index += 1) {
    const field = fields[index] ?? '';
    if (field.length < 4) continue;
    const status = field.slice(0, 2);
    paths.push(field.slice(3));
    if (status.includes('R') || status.includes('C')) index += 1;
  }
  return [...new Set(paths)].sort();
}

/**
 * Describes the local work tree for `kiln run`. Read-only: optional locks
 * are off, so it never rewrites the user's index.
 */
export async function inspectWorkTree(dir: string): Promise<WorkTreeState> {
  const root = await findWorkTreeRoot(dir);
  const git = createGit({
    cwd: root,
    timeoutMs,
    env: { GIT_OPTIONAL_LOCKS: '0' },
  });
  let headSha: string | null = null;
  try {
    const head = await git.raw(['rev-parse', '--verify', '-q', 'HEAD']);
    // Unborn HEAD: git exits 1 silently, which simple-git resolves as ''.
    headSha = isObjectId(head.trim()) ? head.trim() : null;
  } catch {
    headSha = null;
  }
  const status = await git.raw([
    'status',
    '--porcelain=v1',
    '-z',
    '--untracked-files=all',
    '--ignore-submodules=none',
  ]);
  const dirtyPaths = parseStatus(status);
  return {
    root,
    headSha,
    dirty: dirtyPaths.length > 0,
    dirtyPaths,
  };
}
