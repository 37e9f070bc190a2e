/**
 * A local stand-in for the GitHub REST API (node:http on 127.0.0.1) for
 * tests and benchmarks. Every request is checked against GitHub's OpenAPI
 * description (@octokit/openapi): method and path template, required path
 * and query parameters, and the JSON body against the operation's schema.
 * It enforces GitHub's documented limits (140-character status
 * description, 65,536-character comment, 1,000 statuses per SHA and
 * context, 80 content-creating requests a minute → secondary rate limit),
 * keeps in-memory state for the endpoints kiln uses and fails on demand
 * (5xx, rate limits for a number of requests or until a time, 422, 401,
 * slow answers, requests held unanswered like a black-holed connection;
 * `revokeTokens` refuses every token until `restoreTokens`).
 * Anything unknown or invalid is recorded: call `assertNoInvalidRequests()`.
 * With `git`, it also serves repositories over git's smart HTTP with
 * GitHub's access rules (github-stand-in-git.ts); with `webhook`, it
 * delivers events to kiln and keeps GitHub's delivery log, with the
 * endpoints that list and redeliver them (github-stand-in-hooks.ts); with `apiPrefix`
 * (`/api/v3`) it is laid out like GitHub Enterprise Server: the API under
 * the prefix, git at the root of the same origin.
 */
import { createVerify, type KeyObject } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSpec, matchOperation, validateRequest } from './github-openapi.js';
import {
  createGitEndpoint,
  type GitRequest,
  type GitStandInOptions,
} from './github-stand-in-git.js';
import {
  createHookLog,
  type DeliverOptions,
  type HookAttempt,
  type StandInWebhook,
} from './github-stand-in-hooks.js';
import {
  createGithubState,
  type MintedToken,
  type RecordedRequest,
  type StoredCheckRun,
  type StoredComment,
  type StoredStatus,
} from './github-stand-in-state.js';

export type { GitRequest } from './github-stand-in-git.js';
export type {
  DeliverOptions,
  HookAttempt,
  StandInWebhook,
} from './github-stand-in-hooks.js';
export type {
  MintedToken,
  RecordedRequest,
  StoredCheckRun,
  StoredComment,
  StoredStatus,
} from './github-stand-in-state.js';

export type FailureKind =
  | 'server-error'
  | 'bad-gateway-after-create'
  | 'secondary-rate-limit'
  | 'primary-rate-limit'
  | 'unauthorized'
  | 'unprocessable'
  | 'slow'
  | 'hang';

export interface FailureRule {
  kind: FailureKind;
  /** Only requests with this method (e.g. `POST`). */
  method?: string;
  /** Only paths containing this text. */
  pathIncludes?: string;
  /** How many requests fail; unlimited when absent (until `clearFailures`). */
  times?: number;
  /** Epoch ms: the rule applies until then (and is dropped after). */
  until?: number;
  /** The HTTP status of a rate limit. @defaultValue 403 */
  status?: 403 | 429;
  /**
   * `primary-rate-limit`: the epoch ms `x-ratelimit-reset` names (rounded
   * up to a second). @defaultValue `until`, else now + `retryAfter` s
   */
  resetAt?: number;
  /** `retry-after` seconds for rate limits; omit to send none. */
  retryAfter?: number;
  /** For `slow`. */
  delayMs?: number;
  /** The 422's message. @defaultValue `Validation Failed` */
  message?: string;
}

export interface GithubStandInOptions {
  /** Tokens accepted as-is (like a KILN_GITHUB_TOKEN). */
  tokens?: string[];
  /** App auth: the App's id and public key (JWTs are verified with it). */
  app?: { id: string; publicKey: KeyObject | string };
  /** Installation ids by repository (`owner/name`). */
  installations?: Record<string, number>;
  /** Lifetime of minted installation tokens. @defaultValue one hour */
  tokenLifetimeMs?: number;
  /** Content-creating requests allowed per minute. @defaultValue 80 */
  contentPerMinute?: number;
  /** Collaborator permissions by repository, then login (`write`, `read`…). */
  collaborators?: Record<string, Record<string, string>>;
  /** The API's path prefix, like GitHub Enterprise Server's `/api/v3`. */
  apiPrefix?: string;
  /** Repositories served over git's smart HTTP. */
  git?: GitStandInOptions;
  /** Where the App's (and repository) webhooks deliver. */
  webhook?: StandInWebhook;
}

export interface GithubStandIn {
  /** The API's base URL (origin plus `apiPrefix`). */
  url: string;
  /** Scheme, host and port: where git is served. */
  origin: string;
  /** Git requests, in order. */
  gitRequests: GitRequest[];
  /** Makes every minted token expire now (GitHub revoking them early). */
  expireTokens(): void;
  /**
   * Refuses every token (401 Bad credentials), static and minted, old and
   * new, until `restoreTokens`: a revoked KILN_GITHUB_TOKEN or App.
   */
  revokeTokens(): void;
  restoreTokens(): void;
  /** Requests a `hang` rule holds unanswered now. */
  held(): number;
  /**
   * Drops the held requests' connections (nothing was done for them) and
   * the `hang` rules: GitHub answers again.
   */
  releaseHeld(): void;
  requests: RecordedRequest[];
  invalid: RecordedRequest[];
  statuses: StoredStatus[];
  comments: StoredComment[];
  checkRuns: StoredCheckRun[];
  /** Installation tokens minted, in order. */
  mintedTokens: MintedToken[];
  /** GitHub's delivery log of the webhooks: every attempt, oldest first. */
  hookAttempts: HookAttempt[];
  /** Sends an event to `webhook.url` as a new delivery (a new GUID). */
  deliver(options: DeliverOptions): Promise<HookAttempt>;
  /** Waits for the redeliveries asked for so far to be answered. */
  deliveriesSettled(): Promise<void>;
  fail(rule: FailureRule): void;
  clearFailures(): void;
  /** POST/PATCH/PUT/DELETE requests to the content endpoints. */
  contentWrites(): RecordedRequest[];
  /** The most content-creating requests seen in any 60-second window. */
  maxWritesPerMinute(): number;
  statusesFor(
    repository: string,
    sha: string,
    context?: string,
  ): StoredStatus[];
  assertNoInvalidRequests(): void;
  close(): Promise<void>;
}

const CONTENT_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

function isContentWrite(request: RecordedRequest): boolean {
  return (
    CONTENT_METHODS.has(request.method) &&
    !request.path.startsWith('/app/') &&
    request.status !== undefined
  );
}

export async function startGithubStandIn(
  options: GithubStandInOptions = {},
): Promise<GithubStandIn> {
  const spec = loadSpec();
  const requests: RecordedRequest[] = [];
  const invalid: RecordedRequest[] = [];
  let baseUrl = '';
  const state = createGithubState(options, () => baseUrl);
  const hooks = createHookLog(options.webhook, () => baseUrl);
  const { statuses, comments, checkRuns, minted } = state;
  const failures: FailureRule[] = [];
  let revoked = false;
  const held = new Set<ServerResponse>();
  const perMinute = options.contentPerMinute ?? 80;
  const apiPrefix = (options.apiPrefix ?? '').replace(/\/+$/, '');
  const git = createGitEndpoint(options.git ?? { repositories: {} }, {
    tokens: options.tokens ?? [],
    installations: options.installations ?? {},
    minted,
  });

  function reject(request: RecordedRequest, reason: string) {
    request.invalid = reason;
    invalid.push(request);
  }

  function send(
    response: ServerResponse,
    request: RecordedRequest,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    request.status = status;
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      ...headers,
    });
    response.end(body === undefined ? '' : JSON.stringify(body));
  }

  function takeFailure(request: RecordedRequest): FailureRule | undefined {
    for (let index = failures.length - 1; index >= 0; index -= 1) {
      const until = failures[index]?.until;
      if (until !== undefined && until <= Date.now()) failures.splice(index, 1);
    }
    const index = failures.findIndex(
      (rule) =>
        (!rule.method || rule.method === request.method) &&
        (!rule.pathIncludes || request.path.includes(rule.pathIncludes)),
    );
    if (index < 0) return undefined;
    const rule = failures[index] as FailureRule;
    if (rule.times !== undefined) {
      rule.times -= 1;
      if (rule.times <= 0) failures.splice(index, 1);
    }
    return rule;
  }

  function authorize(
    incoming: IncomingMessage,
    request: RecordedRequest,
    appLevel: boolean,
  ): string | undefined {
    const header = incoming.headers.authorization ?? '';
    const [scheme = '', value = ''] = header.split(' ');
    if (appLevel) {
      if (!options.app)
        return 'App endpoints need the stand-in started with `app`';
      if (scheme.toLowerCase() !== 'bearer')
        return 'App endpoints need a JWT (bearer)';
      return verifyJwt(value, options.app);
    }
    if (scheme.toLowerCase() !== 'token' && scheme.toLowerCase() !== 'bearer')
      return 'missing credentials';
    if (revoked) return 'Bad credentials';
    if (options.tokens?.includes(value)) return undefined;
    const token = minted.find((item) => item.token === value);
    if (!token) return 'Bad credentials';
    if (token.expiresAt <= Date.now()) return 'Bad credentials (token expired)';
    void request;
    return undefined;
  }

  async function handle(incoming: IncomingMessage, response: ServerResponse) {
    const url = new URL(incoming.url ?? '/', 'http://stand-in');
    if (git.repositoryOf(url.pathname) !== null)
      return git.handle(incoming, response);
    const method = (incoming.method ?? 'GET').toUpperCase();
    const raw = await readBody(incoming);
    const prefixed = url.pathname.startsWith(`${apiPrefix}/`);
    const request: RecordedRequest = {
      method,
      path: prefixed ? url.pathname.slice(apiPrefix.length) : url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      time: Date.now(),
    };
    requests.push(request);
    if (raw.length > 0) {
      try {
        request.body = JSON.parse(raw) as unknown;
      } catch {
        reject(request, 'body is not JSON');
        return send(response, request, 400, {
          message: 'Problems parsing JSON',
        });
      }
    }
    const operation = prefixed
      ? matchOperation(spec, method, request.path)
      : undefined;
    if (!operation) {
      reject(request, `no ${method} ${url.pathname} in GitHub's REST API`);
      return send(response, request, 404, { message: 'Not Found' });
    }
    request.route = operation.template;
    const problem = validateRequest(spec, operation, request);
    if (problem) {
      reject(request, problem);
      return send(response, request, 422, {
        message: `Invalid request: ${problem}`,
      });
    }
    const appLevel =
      operation.template.startsWith('/app/') ||
      operation.template === '/repos/{owner}/{repo}/installation';
    const authProblem = authorize(incoming, request, appLevel);
    if (authProblem)
      return send(response, request, 401, { message: authProblem });

    const rule = takeFailure(request);
    if (rule?.kind === 'hang') {
      // Read, never answered: like a black-holed connection. Dropped by
      // `releaseHeld`, or by kiln giving up.
      held.add(response);
      response.once('close', () => held.delete(response));
      return;
    }
    if (rule?.kind === 'slow') await sleep(rule.delayMs ?? 1000);
    if (rule?.kind === 'server-error')
      return send(response, request, 500, { message: 'Server Error' });
    if (rule?.kind === 'unauthorized')
      return send(response, request, 401, { message: 'Bad credentials' });
    if (rule?.kind === 'unprocessable') {
      return send(response, request, 422, {
        message: rule.message ?? 'Validation Failed',
        documentation_url: 'https://docs.github.com/rest',
      });
    }
    if (rule?.kind === 'secondary-rate-limit') {
      return send(
        response,
        request,
        403,
        secondaryMessage(),
        rule.retryAfter === undefined
          ? {}
          : { 'retry-after': String(rule.retryAfter) },
      );
    }
    if (rule?.kind === 'primary-rate-limit') {
      const resetAt =
        rule.resetAt ??
        rule.until ??
        Date.now() + (rule.retryAfter ?? 60) * 1000;
      return send(
        response,
        request,
        rule.status ?? 403,
        {
          message: 'API rate limit exceeded for installation ID 77.',
          documentation_url:
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
        {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': '5000',
          'x-ratelimit-reset': String(Math.ceil(resetAt / 1000)),
        },
      );
    }
    if (CONTENT_METHODS.has(method) && !appLevel) {
      const since = Date.now() - 60_000;
      const recent = requests.filter(
        (item) =>
          item !== request &&
          isContentWrite(item) &&
          item.time > since &&
          // Writes GitHub carried out; refused ones are not counted here.
          (item.status ?? 0) < 300,
      ).length;
      if (recent >= perMinute) {
        return send(response, request, 403, secondaryMessage(), {
          'retry-after': '60',
        });
      }
    }
    const result =
      state.route(operation.template, request) ??
      hooks.route(operation.template, request);
    if (!result) {
      reject(
        request,
        `the stand-in does not implement ${method} ${operation.template}`,
      );
      return send(response, request, 501, {
        message: 'Not implemented by the stand-in',
      });
    }
    if (rule?.kind === 'bad-gateway-after-create')
      return send(response, request, 502, { message: 'Bad Gateway' });
    return send(response, request, result.status, result.body, result.headers);
  }

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500);
        response.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  baseUrl = `${origin}${apiPrefix}`;

  return {
    url: baseUrl,
    origin,
    gitRequests: git.requests,
    expireTokens() {
      for (const token of minted) token.expiresAt = Date.now();
    },
    revokeTokens() {
      revoked = true;
    },
    restoreTokens() {
      revoked = false;
    },
    held: () => held.size,
    releaseHeld() {
      for (let index = failures.length - 1; index >= 0; index -= 1) {
        if (failures[index]?.kind === 'hang') failures.splice(index, 1);
      }
      for (const response of held) response.destroy();
      held.clear();
    },
    requests,
    invalid,
    statuses,
    comments,
    checkRuns,
    mintedTokens: minted,
    hookAttempts: hooks.attempts,
    deliver: (deliverOptions) => hooks.deliver(deliverOptions),
    deliveriesSettled: () => hooks.settled(),
    fail: (rule) => failures.push({ ...rule }),
    clearFailures: () => failures.splice(0),
    contentWrites: () => requests.filter(isContentWrite),
    maxWritesPerMinute() {
      const times = requests.filter(isContentWrite).map((item) => item.time);
      let max = 0;
      for (let start = 0, end = 0; end < times.length; end += 1) {
        while ((times[end] ?? 0) - (times[start] ?? 0) >= 60_000) start += 1;
        max = Math.max(max, end - start + 1);
      }
      return max;
    },
    statusesFor: (repository, sha, context) =>
      statuses.filter(
        (item) =>
          item.repository === repository &&
          item.sha === sha &&
          (context === undefined || item.context === context),
      ),
    assertNoInvalidRequests() {
      if (invalid.length > 0) {
        throw new Error(
          `kiln made ${invalid.length} request(s) GitHub would refuse:\n${invalid
            .map((item) => `  ${item.method} ${item.path}: ${item.invalid}`)
            .join('\n')}`,
        );
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function secondaryMessage() {
  return {
    message:
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
    documentation_url:
      'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
  };
}

function verifyJwt(
  jwt: string,
  app: { id: string; publicKey: KeyObject | string },
): string | undefined {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${header}.${payload}`);
  if (!verifier.verify(app.publicKey, Buffer.from(signature, 'base64url')))
    return 'A JSON web token could not be decoded (bad signature)';
  let claims: { iss?: unknown; exp?: unknown; iat?: unknown };
  try {
    claims = JSON.parse(
      Buffer.from(payload, 'base64url').toString('utf8'),
    ) as typeof claims;
  } catch {
    return 'A JSON web token could not be decoded';
  }
  if (String(claims.iss) !== app.id)
    return `JWT iss ${String(claims.iss)} is not the App ${app.id}`;
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp < now)
    return "'Expiration time' claim ('exp') is in the past";
  if (claims.exp - now > 600)
    return "'Expiration time' claim ('exp') is too far in the future";
  return undefined;
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += (chunk as Buffer).length;
    if (size > 5 * 1024 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
