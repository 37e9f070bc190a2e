import { createGit } from './create-git.js';

export interface ListChangedPathsOptions {
  mirrorDir: string;
  /** Validated ids, both present in the mirror. */
  base: string;
  head: string;
  timeoutMs: number;
}

/**
 * Paths that differ between two commits, sorted. A rename counts as a
 * delete plus an add so both paths can match a trigger's `paths` filter;
 * no external diff or textconv program ever runs.
 */
export async function listChangedPaths(
  options: ListChangedPathsOptions,
): Promise<string[]> {
  const output = await createGit({
    cwd: options.mirrorDir,
    timeoutMs: options.timeoutMs,
  }).raw([
    'diff',
    '--name-only',
    '-z',
    '--no-renames',
    '--no-ext-diff',
    '--no-textconv',
    options.base,
    options.head,
    '--',
  ]);
  return output
    .split('\0')
    .filter((line) => line !== '')
    .sort();
}
