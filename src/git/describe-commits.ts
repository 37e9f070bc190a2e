import { existsSync } from 'node:fs';
import { createGit } from './create-git.js';

/** A commit as lists show it. */
export interface CommitInfo {
  sha: string;
  /** The message's first line. */
  subject: string;
  author: string;
  /** ISO time the commit was authored. */
  date: string;
}

/**
 * Subjects and authors of commits the mirror already has (nothing is
 * fetched; a missing commit is left out). `shas` must be checked ids.
 */
export async function describeCommits(options: {
  mirrorDir: string;
  shas: readonly string[];
  timeoutMs: number;
}): Promise<CommitInfo[]> {
  if (options.shas.length === 0 || !existsSync(options.mirrorDir)) return [];
  const output = await createGit({
    cwd: options.mirrorDir,
    timeoutMs: options.timeoutMs,
  })
    .raw([
      'log',
      '--no-walk=unsorted',
      '--ignore-missing',
      '--format=%H%x00%an%x00%aI%x00%s%x00',
      ...options.shas,
      '--',
    ])
    .catch(() => '');
  const fields = output.split('\0');
  const commits: CommitInfo[] = [];
  for (let index = 0; index + 3 < fields.length; index += 4) {
    const sha = fields[index]!.trim();
    if (!/^[0-9a-f]{40}$/.test(sha)) continue;
    commits.push({
      sha,
      author: fields[index + 1] ?? '',
      date: fields[index + 2] ?? '',
      subject: fields[index + 3] ?? '',
    });
  }
  return commits;
}
