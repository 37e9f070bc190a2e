import { checkServerAnswers } from './check-server-answers.js';
import { createGit } from './create-git.js';
import type { GitCredentials } from './git-credentials.js';
import { GitError } from './git-error.js';
import type { CheckedSource } from './repository-source.js';

export interface RunRemoteGitOptions {
  /** Directory git runs in (a mirror, so its hardened config applies). */
  cwd: string;
  source: CheckedSource;
  /** Asked for a token when the source carries none. */
  credentials?: GitCredentials;
  /** Arguments, the source's url among them (after `--`). */
  args: string[];
  timeoutMs: number;
  /**
   * How long the server may stay silent: it must accept the connection
   * (and finish a TLS handshake) within it, and a transfer that moves no
   * byte for that long is cut. Either ends in SERVER_NOT_ANSWERING naming
   * the repository. @defaultValue 30000
   */
  stallMs?: number;
}

const defaultStallMs = 30_000;

// What git prints when the server wants credentials it did not get or
// refuses the ones it got. GitHub answers 401 without (or with a bad)
// token and 404 "Repository not found" for a repository the token cannot
// see; GIT_TERMINAL_PROMPT=0 turns the 401 into "could not read Username".
const deniedPatterns = [
  /terminal prompts disabled/i,
  /could not read (username|password)/i,
  /authentication failed/i,
  /returned error: 40[134]\b/i,
  /repository '[^']*' not found/i,
  /repository not found/i,
];

/** The environment that carries transport policy and the token to git. */
function transportEnv(
  source: CheckedSource,
  token: string | undefined,
  stallMs: number,
): Record<string, string> {
  const env: Record<string, string> = {
    // Only the source's own transport: a redirect or a crafted URL cannot
    // switch to ext::, file:// or another scheme.
    GIT_ALLOW_PROTOCOL: source.protocol,
    GIT_PROTOCOL_FROM_USER: '0',
    // Less than a byte a second for the stall limit: the server went
    // quiet. Servers send keep-alives while they build a pack, so a big
    // repository is not cut for thinking.
    GIT_HTTP_LOW_SPEED_LIMIT: '1',
    GIT_HTTP_LOW_SPEED_TIME: String(Math.max(1, Math.ceil(stallMs / 1000))),
  };
  if (token !== undefined && source.origin !== null) {
    env.GIT_CONFIG_COUNT = '2';
    env.GIT_CONFIG_KEY_0 = `http.${source.origin}/.extraHeader`;
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basicCredentials(token)}`;
    // Git picks the header by the url it started with and, after following
    // a redirect, sends it on to the new host with every later request. So
    // with a token, no redirect is followed: the token stays on its origin.
    env.GIT_CONFIG_KEY_1 = 'http.followRedirects';
    env.GIT_CONFIG_VALUE_1 = 'false';
  }
  return env;
}

function basicCredentials(token: string): string {
  return Buffer.from(`x-access-token:${token}`).toString('base64');
}

/** Removes a token (raw and as sent in the header) from text. */
export function redactSecret(text: string, token: string | undefined): string {
  if (token === undefined) return text;
  return text
    .split(token)
    .join('***')
    .split(basicCredentials(token))
    .join('***');
}

export function isAccessDenied(error: unknown): boolean {
  const text = String((error as Error | undefined)?.message ?? error);
  return deniedPatterns.some((pattern) => pattern.test(text));
}

function describeDenied(options: RunRemoteGitOptions): string {
  const { source, credentials } = options;
  if (credentials) return credentials.describeDenied(source);
  return `kiln has no access to ${source.id}: the server refused the fetch; give kiln a token that can read it (docs/github-app.md)`;
}

async function askToken(
  options: RunRemoteGitOptions,
  refresh: boolean,
): Promise<string | undefined> {
  const { source, credentials } = options;
  if (source.token !== undefined) return refresh ? undefined : source.token;
  if (!credentials || source.origin === null) return undefined;
  try {
    return await credentials.tokenFor(source, { refresh });
  } catch (error) {
    throw new GitError(
      'FETCH_FAILED',
      `could not get a token to fetch ${source.id}: ${String((error as Error).message ?? error).slice(0, 300)}; check that GitHub's API is reachable`,
    );
  }
}

async function runWith(
  options: RunRemoteGitOptions,
  token: string | undefined,
): Promise<string> {
  const git = createGit({
    cwd: options.cwd,
    env: transportEnv(options.source, token, stallMsOf(options)),
    timeoutMs: options.timeoutMs,
    allowConfigEnv: token !== undefined,
  });
  try {
    return await git.raw(options.args);
  } catch (error) {
    // A fresh error without `cause`: nothing that may hold the token
    // travels on to a log.
    const text = redactSecret(String(error), token).slice(0, 2000);
    if (/operation too slow/i.test(text)) {
      throw notAnswering(
        options,
        `no data came for ${formatSeconds(stallMsOf(options))}`,
      );
    }
    throw new Error(text);
  }
}

function stallMsOf(options: RunRemoteGitOptions): number {
  return options.stallMs ?? defaultStallMs;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function notAnswering(options: RunRemoteGitOptions, what: string): GitError {
  return new GitError(
    'SERVER_NOT_ANSWERING',
    `the git server of ${options.source.id} does not answer: ${what}; kiln tries again later (the limit is KILN_GIT_STALL_MS)`,
  );
}

/**
 * Runs a git command that talks to the source's server with the right
 * token in the environment (never in argv or the url). A server that
 * stays silent for the stall limit (no connection, no TLS handshake, no
 * byte of a transfer) is SERVER_NOT_ANSWERING (retryable). When the server
 * refuses access, a token from `credentials` is refreshed and the command
 * tried once more; a second refusal is ACCESS_DENIED (permanent) with a
 * message saying what to do. Other failures reject with a plain Error
 * whose message has any token removed.
 */
export async function runRemoteGit(
  options: RunRemoteGitOptions,
): Promise<string> {
  const http =
    options.source.protocol === 'https' || options.source.protocol === 'http';
  const silent = await checkServerAnswers(
    options.source.url,
    stallMsOf(options),
  );
  if (silent !== null) throw notAnswering(options, silent);
  const token = await askToken(options, false);
  try {
    return await runWith(options, token);
  } catch (error) {
    if (!http || !isAccessDenied(error)) throw error;
  }
  const fresh = await askToken(options, true);
  if (fresh !== undefined && fresh !== token) {
    try {
      return await runWith(options, fresh);
    } catch (error) {
      if (!isAccessDenied(error)) throw error;
    }
  }
  throw new GitError('ACCESS_DENIED', describeDenied(options));
}
