/**
 * A short lock in Redis for work one process at a time may do (one run's
 * report; creating one PR comment; a pass of the webhook redeliverer).
 * It lapses on its own when the
 * holder dies, so a killed kiln holds nothing for long; while the holder
 * lives it is renewed. Release and renewal touch only the holder's own
 * lock (one that lapsed and was taken by another stays theirs).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface WithRedisLockOptions {
  key: string;
  /** The lock lapses this long after its holder stops renewing it. @defaultValue 15000 */
  ttlMs?: number;
}

/** KEYS[1] lock, ARGV[1] holder, ARGV[2] ttl: renews only the holder's lock. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
/** KEYS[1] lock, ARGV[1] holder: deletes only the holder's lock. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export type LockResult<T> = { locked: true; value: T } | { locked: false };

/** Runs `work` holding the lock; `{locked: false}` when someone else holds it. */
export async function withRedisLock<T>(
  redis: Redis,
  options: WithRedisLockOptions,
  work: () => Promise<T>,
): Promise<LockResult<T>> {
  const ttl = options.ttlMs ?? 15_000;
  const holder = randomBytes(8).toString('hex');
  const taken = await redis.set(options.key, holder, 'PX', ttl, 'NX');
  if (taken !== 'OK') return { locked: false };
  const renewal = setInterval(() => {
    redis.eval(RENEW, 1, options.key, holder, ttl).catch(() => undefined);
  }, ttl / 3);
  renewal.unref();
  try {
    return { locked: true, value: await work() };
  } finally {
    clearInterval(renewal);
    await redis.eval(RELEASE, 1, options.key, holder).catch(() => undefined);
  }
}
