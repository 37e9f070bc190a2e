import { setTimeout as sleep } from 'node:timers/promises';
import { createGit } from './create-git.js';
import { GitError } from './git-error.js';
import type { CheckedSource } from './repository-source.js';

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
}

/** Keeps fetched objects reachable so `git gc` never prunes them. */
export function keepRef(sha: string): string {
  return `refs/kiln/keep/${sha}`;
}

/** The environment that carries transport policy and the token to git. */
function transportEnv(source: CheckedSource): Record<string, string> {
  const env: Record<string, string> = {
    // Only the source's own transport: a redirect or a crafted URL cannot
    // switch to ext::, file:// or another scheme.
    GIT_ALLOW_PROTOCOL: source.protocol,
    GIT_PROTOCOL_FROM_USER: '0',
  };
  if (source.token !== undefined && source.origin !== null) {
    const basic = Buffer.from(`x-access-token:${source.token}`).toString(
      'base64',
    );
    // Scoped to the source's origin so a redirect elsewhere does not get it.
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = `http.${source.origin}/.extraHeader`;
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`;
  }
  return env;
}

/** Removes the token (raw and base64) from text that may reach a log. */
export function redactToken(text: string, source: CheckedSource): string {
  if (source.token === undefined) return text;
  const basic = Buffer.from(`x-access-token:${source.token}`).toString(
    'base64',
  );
  return text.split(source.token).join('***').split(basic).join('***');
}

async function runFetch(
  options: FetchCommitOptions,
  refspecs: string[],
): Promise<void> {
  const { source } = options;
  const git = createGit({
    cwd: options.mirrorDir,
    env: transportEnv(source),
    timeoutMs: options.timeoutMs,
    allowConfigEnv: source.token !== undefined,
  });
  await git.raw([
    'fetch',
    '--no-tags',
    '--no-recurse-submodules',
    '--no-write-fetch-head',
    '--quiet',
    '--',
    source.url,
    ...refspecs,
  ]);
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
 * example it was force-pushed away), FETCH_FAILED when it never answered.
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
  const detail = redactToken(String(lastError), source).slice(0, 1000);
  throw new GitError(
    'FETCH_FAILED',
    `could not fetch ${sha} from ${source.id} after ${attempts} attempts (${detail}); check the url, the token and network access`,
  );
}
