/**
 * One `backoff-until` time in Redis that every kiln process checks before
 * writing to GitHub: a secondary rate limit hit by one reporter makes all
 * of them wait (GitHub may ban an integration that keeps going).
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import { KilnError } from '../errors.js';

/** Epoch ms until which nobody writes; 0 when free. */
export async function readBackoff(redis: Redis, keys: RedisKeys) {
  const value = Number(await redis.get(keys.githubBackoff));
  return Number.isFinite(value) ? value : 0;
}

// Only ever moves the time later, so a short wait can't cut a long one.
const EXTEND = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

export async function extendBackoff(
  redis: Redis,
  options: { keys: RedisKeys; until: number; now?: number },
): Promise<void> {
  const ttl = Math.max(1000, options.until - (options.now ?? Date.now()));
  await redis.eval(
    EXTEND,
    1,
    options.keys.githubBackoff,
    String(Math.ceil(options.until)),
    String(Math.ceil(ttl) + 1000),
  );
}

export class GithubBackoffError extends KilnError {
  readonly code = 'GITHUB_BACKOFF';
  readonly until: number;
  constructor(until: number) {
    super(
      `GitHub asked kiln to slow down: reports wait until ${new Date(until).toISOString()}`,
    );
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
