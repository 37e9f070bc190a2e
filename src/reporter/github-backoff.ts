/**
 * One `backoff-until` time in Redis that every kiln process checks before
 * writing to GitHub: a secondary rate limit hit by one reporter makes all
 * of them wait (GitHub may ban an integration that keeps going).
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import { KilnError } from '../errors.js';

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

// Only ever makes the wait longer, so a short wait can't cut a long one;
// compared as time left on Redis's clock. The value (the writer's epoch ms)
// is only for people reading the key.
const EXTEND = `
local left = redis.call('PTTL', KEYS[1])
local wanted = tonumber(ARGV[2])
if wanted > left then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', wanted)
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
    String(Math.ceil(ttl)),
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
