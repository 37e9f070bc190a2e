/**
 * When kiln may write to GitHub, shared by every kiln process on the same
 * Redis: a `backoff-until` wait every report checks first (a rate limit
 * hit by one reporter makes all of them wait: GitHub may ban an
 * integration that keeps going), and a probe: once a wait is over, one
 * report job at a time tries GitHub while the others keep waiting, until
 * a request goes through. So a backlog never stampedes a GitHub that is
 * still refusing, and a GitHub that keeps refusing (a primary limit whose
 * reset passed, credentials that stay refused) is tried at most once per
 * probe interval — never in a loop.
 *
 * Every time here is kept on Redis's clock (the wait as the key's time to
 * live, the probe's lease from Redis' TIME): hosts' clocks may disagree
 * by minutes (reliability plan F27). Hosts only exchange durations.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import { KilnError } from '../errors.js';

/** A limit met again after a wait ended waits at least this. */
export const DEFAULT_PROBE_INTERVAL_MS = 60_000;
/** Jobs waiting for a probe look again this often (Redis only). */
const PROBE_POLL_MS = 1000;
/** The probe state outlives the wait by this much. */
const PROBE_TTL_MS = 3_600_000;

/**
 * Epoch ms (on this host's clock) until which nobody writes; 0 when free.
 * Read from the key's time to live, not its value: the value is another
 * host's clock, and hosts' clocks may disagree by minutes (reliability
 * plan F27), while Redis counts the TTL down on its own clock.
 */
export async function readBackoff(
  redis: Redis,
  keys: RedisKeys,
  now: () => number = Date.now,
) {
  const left = await redis.pttl(keys.githubBackoff);
  return left > 0 ? now() + left : 0;
}

/**
 * KEYS[1] backoff-until, KEYS[2] probe; ARGV[1] the writer's epoch ms
 * (only for people reading the key), ARGV[2] the wait wanted in ms,
 * ARGV[3] the probe interval in ms. Only ever makes the wait longer (a
 * short wait can't cut a long one), and marks GitHub as refusing (probe
 * = 0: nobody probing). A refusal met when no wait was running while
 * GitHub was already marked refusing is a failed probe: it waits at least
 * the probe interval, whatever GitHub's reset said. Returns the ms left.
 */
const EXTEND = `
local left = redis.call('PTTL', KEYS[1])
local wanted = tonumber(ARGV[2])
if left <= 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  wanted = math.max(wanted, tonumber(ARGV[3]))
end
if wanted > left then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', wanted)
  left = wanted
end
redis.call('SET', KEYS[2], '0', 'PX', left + ${PROBE_TTL_MS})
return left`;

/**
 * KEYS[1] backoff-until, KEYS[2] probe; ARGV[1] probe lease ms.
 * Returns {ms to wait (0: go), 1 when the caller is the probe}.
 */
const ENTER = `
local left = redis.call('PTTL', KEYS[1])
if left > 0 then return {left, 0} end
local lease = redis.call('GET', KEYS[2])
if not lease then return {0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(lease) > now then return {math.min(tonumber(lease) - now, ${PROBE_POLL_MS}), 0} end
redis.call('SET', KEYS[2], tostring(now + tonumber(ARGV[1])), 'KEEPTTL')
return {0, 1}`;

export interface ExtendBackoffOptions {
  keys: RedisKeys;
  /** Epoch ms (this host's clock) GitHub asked kiln to wait until. */
  until: number;
  /** This host's time. @defaultValue Date.now() */
  now?: number;
  /** @defaultValue DEFAULT_PROBE_INTERVAL_MS */
  probeIntervalMs?: number;
}

/**
 * Makes every kiln wait until `until` (or later); resolves the wait's end
 * on this host's clock.
 */
export async function extendBackoff(
  redis: Redis,
  options: ExtendBackoffOptions,
): Promise<number> {
  const now = options.now ?? Date.now();
  const ttl = Math.max(1000, options.until - now);
  const left = await redis.eval(
    EXTEND,
    2,
    options.keys.githubBackoff,
    options.keys.githubProbe,
    String(Math.ceil(options.until)),
    String(Math.ceil(ttl)),
    String(options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS),
  );
  return now + Number(left);
}

export type GithubEntry = { wait: number } | { wait: 0; probe: boolean };

/**
 * Whether a report may talk to GitHub now: `wait` > 0 is the epoch ms
 * (this host's clock) to look again at; else it goes, and `probe` says it
 * is the one request trying a GitHub that refused kiln (it then calls
 * `probeSucceeded` when GitHub took it). A probe that neither succeeds
 * nor is refused (a timeout) lets the next job probe after `leaseMs`.
 */
export async function enterGithub(
  redis: Redis,
  options: { keys: RedisKeys; leaseMs: number; now?: () => number },
): Promise<GithubEntry> {
  const [wait, probe] = (await redis.eval(
    ENTER,
    2,
    options.keys.githubBackoff,
    options.keys.githubProbe,
    String(options.leaseMs),
  )) as [number, number];
  if (wait > 0) return { wait: (options.now ?? Date.now)() + wait };
  return { wait: 0, probe: probe === 1 };
}

/** GitHub took the probe's requests: every waiting job may go. */
export async function probeSucceeded(
  redis: Redis,
  keys: RedisKeys,
): Promise<void> {
  await redis.del(keys.githubProbe);
}

/**
 * The probe stepped aside before asking GitHub anything (the write
 * budget, a comment another job is writing): the next job probes now.
 */
export async function releaseProbe(
  redis: Redis,
  keys: RedisKeys,
): Promise<void> {
  await redis.set(keys.githubProbe, '0', 'KEEPTTL', 'XX');
}

export class GithubBackoffError extends KilnError {
  readonly code = 'GITHUB_BACKOFF';
  readonly until: number;
  constructor(until: number, why = 'GitHub asked kiln to slow down') {
    super(`${why}: reports wait until ${new Date(until).toISOString()}`);
    this.until = until;
  }
}

interface ErrorWithResponse {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

/**
 * How long GitHub asked to wait, from a failed request: `retry-after`, or
 * the primary limit's reset, or 60 s for a secondary limit without a
 * header. `undefined` when the error is not a rate limit.
 */
export function rateLimitWaitMs(error: unknown, now = Date.now()) {
  const failure = error as ErrorWithResponse;
  if (failure.status !== 403 && failure.status !== 429) return undefined;
  const headers = failure.response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']) * 1000;
    if (Number.isFinite(reset)) return Math.max(1000, reset - now + 1000);
  }
  if (/secondary rate|abuse/i.test(failure.message ?? '')) return 60_000;
  if (failure.status === 429) return 60_000;
  return undefined;
}
