import { setTimeout as sleep } from 'node:timers/promises';
import { createGit } from './create-git.js';
import type { GitCredentials } from './git-credentials.js';
import { GitError } from './git-error.js';
import type { CheckedSource } from './repository-source.js';
import { runRemoteGit } from './run-remote-git.js';

export interface FetchCommitOptions {
  mirrorDir: string;
  source: CheckedSource;
  /** Validated object id (commit, or tree for local snapshots). */
  sha: string;
  timeoutMs: number;
  /** @defaultValue 3 */
  attempts?: number;
  /** First pause between attempts; doubles each time. @defaultValue 500 */
  retryDelayMs?: number;
  /** Tokens for sources that carry none (see GitCredentials). */
  credentials?: GitCredentials;
  /** How long the server may stay silent (see runRemoteGit). */
  stallMs?: number;
}

/** Keeps fetched objects reachable so `git gc` never prunes them. */
export function keepRef(sha: string): string {
  return `refs/kiln/keep/${sha}`;
}

async function runFetch(
  options: FetchCommitOptions,
  refspecs: string[],
): Promise<void> {
  await runRemoteGit({
    cwd: options.mirrorDir,
    source: options.source,
    credentials: options.credentials,
    timeoutMs: options.timeoutMs,
    stallMs: options.stallMs,
    args: [
      'fetch',
      '--no-tags',
      '--no-recurse-submodules',
      '--no-write-fetch-head',
      '--quiet',
      '--',
      options.source.url,
      ...refspecs,
    ],
  });
}

/**
 * Whether a branch or tag of the repository holds `sha` (it is then the
 * repository's own code, not a fork's commit reached by its SHA). Fetches
 * the current branches and tags first.
 */
export async function isOnBranchOrTag(
  options: Omit<FetchCommitOptions, 'attempts' | 'retryDelayMs'>,
): Promise<boolean> {
  await runFetch(options, [
    '+refs/heads/*:refs/kiln/heads/*',
    '+refs/tags/*:refs/kiln/tags/*',
  ]);
  if (!(await isPresent(options.mirrorDir, options.sha))) return false;
  const output = await createGit({
    cwd: options.mirrorDir,
    timeoutMs: 60_000,
  }).raw([
    'for-each-ref',
    '--count=1',
    `--contains=${options.sha}`,
    '--format=%(refname)',
    'refs/kiln/heads',
    'refs/kiln/tags',
  ]);
  return output.trim() !== '';
}

// Permanent failures, and a server that stays silent: asking it again at
// once would hold the repository (and the caller's slot) for another
// stall limit; the caller's own retry (intake backoff, step retry) comes
// later.
function isFinal(error: unknown): boolean {
  return (
    error instanceof GitError &&
    (!error.retryable || error.code === 'SERVER_NOT_ANSWERING')
  );
}

/** Object type in the mirror, or null when it is not there. */
export async function readObjectType(
  mirrorDir: string,
  sha: string,
): Promise<string | null> {
  try {
    const type = await createGit({ cwd: mirrorDir, timeoutMs: 30_000 }).raw([
      'cat-file',
      '-t',
      sha,
    ]);
    return type.trim();
  } catch {
    return null;
  }
}

async function isPresent(mirrorDir: string, sha: string): Promise<boolean> {
  const type = await readObjectType(mirrorDir, sha);
  return type === 'commit' || type === 'tree';
}

async function pinObject(mirrorDir: string, sha: string): Promise<void> {
  await createGit({ cwd: mirrorDir, timeoutMs: 30_000 }).raw([
    'update-ref',
    keepRef(sha),
    sha,
  ]);
}

/**
 * Fetches exactly `sha` into the mirror (full objects, never shallow, so later
 * fetches stay incremental). If the server refuses a fetch by id, fetches all
 * heads and tags instead and looks again. Bounded attempts; then
 * COMMIT_NOT_FOUND when the server answered but lacks the commit (for
 * example it was force-pushed away), FETCH_FAILED when it never answered;
 * SERVER_NOT_ANSWERING at once when the server stays silent.
 */
export async function fetchCommit(options: FetchCommitOptions): Promise<void> {
  const { mirrorDir, sha, source } = options;
  const attempts = Math.max(1, options.attempts ?? 3);
  let delayMs = options.retryDelayMs ?? 500;
  let lastError: unknown;
  let serverAnswered = false;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      // Success means the keep ref now points at `sha`: the object is there.
      await runFetch(options, [`${sha}:${keepRef(sha)}`]);
      return;
    } catch (error) {
      // No access stays no access, silence stays silence: say so at once
      // instead of retrying.
      if (isFinal(error)) throw error;
      lastError = error;
    }
    try {
      await runFetch(options, [
        '+refs/heads/*:refs/kiln/heads/*',
        '+refs/tags/*:refs/kiln/tags/*',
      ]);
      serverAnswered = true;
      if (await isPresent(mirrorDir, sha)) {
        await pinObject(mirrorDir, sha);
        return;
      }
    } catch (error) {
      if (isFinal(error)) throw error;
      lastError = error;
    }
    if (attempt < attempts) {
      await sleep(delayMs);
      delayMs *= 2;
    }
  }
  if (serverAnswered) {
    throw new GitError(
      'COMMIT_NOT_FOUND',
      `commit ${sha} is not in ${source.id} after ${attempts} attempts; it may have been force-pushed away or not pushed yet`,
    );
  }
  // runRemoteGit already removed any token from the message.
  const detail = String(lastError).slice(0, 1000);
  throw new GitError(
    'FETCH_FAILED',
    `could not fetch ${sha} from ${source.id} after ${attempts} attempts (${detail}); check the url, the token and network access`,
  );
}
