/**
 * kiln's access to the GitHub REST API: a GitHub App (installation tokens
 * minted with @octokit/auth-app and refreshed before they expire) or a
 * token (KILN_GITHUB_TOKEN), against api.github.com or a GitHub Enterprise
 * Server (KILN_GITHUB_API_URL). Octokit with plugin-retry (transient 5xx
 * and requests that timed out) and plugin-throttling (serialised writes);
 * every request is abandoned after `requestTimeoutMs` (KILN_GITHUB_TIMEOUT_MS),
 * so a GitHub that stops answering (or a black-holed connection) holds a
 * report for a bounded time.
 *
 * Contract: `createGithubClient` returns `null` when nothing is configured
 * (kiln then records everything and posts nothing). `forRepository` may be
 * called concurrently; clients are cached per installation. Rate limits are
 * not retried in-process: `onRateLimited` is told how long to wait and the
 * request fails, so the caller (the report queue) can wait without holding
 * anything.
 */
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';
import type { Logger } from 'pino';
import type { Settings } from '../../settings.js';
import { KilnError } from '../../errors.js';

const KilnOctokit = Octokit.plugin(retry, throttling);
export type GithubOctokit = InstanceType<typeof KilnOctokit>;

export type GithubAuthKind = 'app' | 'token';

export interface GithubClient {
  kind: GithubAuthKind;
  /** Check runs need App auth. */
  canCreateCheckRuns: boolean;
  /**
   * An Octokit allowed to write to `repository` (`owner/name`). With App
   * auth the installation comes from `installationId` or is looked up for
   * the repository (cached). Rejects with GithubClientError when the App is
   * not installed there.
   */
  forRepository(
    repository: string,
    installationId?: number,
  ): Promise<GithubOctokit>;
  /**
   * An Octokit that authenticates as the App itself (a JWT), for GitHub's
   * `/app/…` endpoints such as the App webhook's deliveries; `undefined`
   * with token auth.
   */
  forApp(): GithubOctokit | undefined;
  /** Forget cached tokens (after a 401): the next request mints a new one. */
  forgetTokens(): void;
  /**
   * A token that can read `repository` (`owner/name`) over git. App auth:
   * an installation token scoped to that one repository with
   * `contents: read` only, cached until shortly before it expires, and
   * undefined when the App is not installed there. Token auth:
   * KILN_GITHUB_TOKEN. `refresh` skips the cache (the last token was
   * refused). May be called concurrently.
   */
  readToken(
    repository: string,
    options?: { refresh?: boolean },
  ): Promise<string | undefined>;
}

export class GithubClientError extends KilnError {
  readonly code = 'GITHUB_NOT_INSTALLED';
  constructor(message: string) {
    super(message);
  }
}

export interface CreateGithubClientOptions {
  settings: Pick<
    Settings,
    'githubApiUrl' | 'githubToken' | 'githubAppId' | 'githubPrivateKey'
  >;
  logger: Logger;
  /** Told how many seconds GitHub asked everyone to wait. */
  onRateLimited?: (retryAfterSeconds: number, secondary: boolean) => void;
  /**
   * Spacing of writes. GitHub asks for ≥ 1 s between mutating requests.
   * @defaultValue 1000
   */
  minWriteIntervalMs?: number;
  /** Retries of a 5xx inside one attempt. @defaultValue 2 */
  retries?: number;
  /** Retry n waits n² times this. @defaultValue 1000 */
  retryBaseMs?: number;
  /**
   * A request (connecting, sending, waiting for the whole answer) is
   * abandoned after this; it then fails like a 500 (retried).
   * @defaultValue 20000
   */
  requestTimeoutMs?: number;
  /** An installation token is replaced this long before it expires. @defaultValue 300000 */
  tokenRefreshMarginMs?: number;
}

/** Permissions the App (or token) needs; also in docs/github-app.md. */
export const GITHUB_PERMISSIONS = {
  statuses: 'write',
  checks: 'write',
  pull_requests: 'write',
  contents: 'read',
  metadata: 'read',
} as const;

export function createGithubClient(
  options: CreateGithubClientOptions,
): GithubClient | null {
  const { settings } = options;
  if (settings.githubAppId && settings.githubPrivateKey) {
    return createAppClient(
      options,
      settings.githubAppId,
      settings.githubPrivateKey,
    );
  }
  if (settings.githubToken) {
    const octokit = makeOctokit(options, { auth: settings.githubToken });
    return {
      kind: 'token',
      canCreateCheckRuns: false,
      forRepository: async () => octokit,
      forApp: () => undefined,
      forgetTokens: () => undefined,
      readToken: async () => settings.githubToken,
    };
  }
  return null;
}

function createAppClient(
  options: CreateGithubClientOptions,
  appId: string,
  privateKey: string,
): GithubClient {
  const cache = createTokenCache(options.tokenRefreshMarginMs ?? 300_000);
  const appOctokit = makeOctokit(options, {
    authStrategy: createAppAuth,
    auth: { appId, privateKey: normalizeKey(privateKey) },
  });
  // Mints the git tokens: same key and cache, requests through the App's
  // Octokit (base URL, timeout, retries).
  const appAuth = createAppAuth({
    appId,
    privateKey: normalizeKey(privateKey),
    // auth-app's type wants a string from `get`; it treats undefined as a
    // miss, which is what ours answers for an absent or expiring token.
    cache: cache as { get(key: string): string; set: TokenCache['set'] },
    request: appOctokit.request,
  });
  const installations = new Map<string, number>();
  const clients = new Map<number, GithubOctokit>();
  return {
    kind: 'app',
    canCreateCheckRuns: true,
    async forRepository(repository, installationId) {
      const id = installationId ?? (await lookUp(repository));
      let client = clients.get(id);
      if (!client) {
        client = makeOctokit(options, {
          authStrategy: createAppAuth,
          auth: {
            appId,
            privateKey: normalizeKey(privateKey),
            installationId: id,
            cache,
          },
        });
        clients.set(id, client);
      }
      return client;
    },
    forApp: () => appOctokit,
    forgetTokens: () => cache.clear(),
    async readToken(repository, readOptions = {}) {
      // A second round only after GitHub refused to mint for the cached
      // installation: the App was reinstalled (a new installation id) or
      // the installation lost the repository.
      for (let round = 0; round < 2; round += 1) {
        const installationId = await lookUp(repository).catch(
          (error: unknown) => {
            // Not installed: fetch without a token (a public repository
            // still works; a private one fails with "install the App").
            if (error instanceof GithubClientError) return undefined;
            throw error;
          },
        );
        if (installationId === undefined) return undefined;
        try {
          const { token } = await appAuth({
            type: 'installation',
            installationId,
            // Least privilege: the token in git's environment reads this
            // one repository and can do nothing else.
            repositoryNames: [repository.split('/')[1] ?? ''],
            permissions: { contents: 'read' },
            refresh: readOptions.refresh === true || round > 0,
          });
          return token;
        } catch (error) {
          const status = (error as { status?: number }).status;
          if (status !== 404 && status !== 422) throw error;
          installations.delete(repository);
        }
      }
      return undefined;
    },
  };

  async function lookUp(repository: string): Promise<number> {
    const known = installations.get(repository);
    if (known !== undefined) return known;
    const [owner = '', repo = ''] = repository.split('/');
    try {
      const response = await appOctokit.request(
        'GET /repos/{owner}/{repo}/installation',
        { owner, repo },
      );
      installations.set(repository, response.data.id);
      return response.data.id;
    } catch (error) {
      if ((error as { status?: number }).status === 404) {
        throw new GithubClientError(
          `the GitHub App ${appId} is not installed on ${repository}: install it on the repository (docs/github-app.md)`,
        );
      }
      throw error;
    }
  }
}

interface OctokitAuthOptions {
  auth: unknown;
  authStrategy?: typeof createAppAuth;
}

function makeOctokit(
  options: CreateGithubClientOptions,
  auth: OctokitAuthOptions,
): GithubOctokit {
  const { logger } = options;
  const minTime = options.minWriteIntervalMs ?? 1000;
  return new KilnOctokit({
    ...auth,
    baseUrl: options.settings.githubApiUrl?.replace(/\/+$/, ''),
    userAgent: 'kiln',
    // @octokit/request has no timeout of its own (a `timeout` option is
    // ignored): each fetch gets an abort signal that fires after it.
    request: { fetch: fetchWithTimeout(options.requestTimeoutMs ?? 20_000) },
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => logger.debug({ github: message }),
      error: (message: string) => logger.warn({ github: message }),
    },
    retry: {
      retries: options.retries ?? 2,
      retryAfterBaseValue: options.retryBaseMs ?? 1000,
      // plugin-retry's list plus 429: a rate limit is never retried in
      // the request; the caller waits (onRateLimited) without holding it.
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
    },
    throttle: {
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime }),
      onRateLimit: (retryAfter: number) => {
        options.onRateLimited?.(retryAfter, false);
        return false;
      },
      onSecondaryRateLimit: (retryAfter: number) => {
        options.onRateLimited?.(retryAfter, true);
        return false;
      },
    },
  });
}

/**
 * `fetch` with a deadline for the whole exchange, body included; the
 * caller's own signal still aborts it too.
 */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init = {}) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init.signal
      ? AbortSignal.any([init.signal, deadline])
      : deadline;
    return fetch(input, { ...init, signal });
  };
}

/** PEMs given in one environment line carry literal `\n`. */
function normalizeKey(key: string): string {
  return key.includes('\\n') ? key.replace(/\\n/g, '\n') : key;
}

interface TokenCache {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  clear(): void;
}

/**
 * auth-app's own cache keeps a token 59 minutes whatever GitHub said; this
 * one drops it `marginMs` before its `expires_at`, so no request goes out
 * with a token about to expire.
 */
function createTokenCache(marginMs: number): TokenCache {
  const entries = new Map<string, string>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      const expiresAt = Date.parse(value.split('|')[2] ?? '');
      if (!Number.isFinite(expiresAt) || expiresAt - Date.now() < marginMs) {
        entries.delete(key);
        return undefined;
      }
      return value;
    },
    set(key, value) {
      if (entries.size > 1000) entries.clear();
      entries.set(key, value);
    },
    clear: () => entries.clear(),
  };
}
