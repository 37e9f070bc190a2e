/**
 * A short Redis lock per run, so that advancing a run's DAG is serialised:
 * when several workers finish nodes of one run at the same moment, each
 * reads the state the previous one wrote. The lock expires on its own if
 * its holder dies, and is released only by its holder.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { KilnError } from '../errors.js';

const RELEASE = `
-- KEYS[1] lock key; ARGV[1] holder token
-- returns 1 when released, 0 when the lock is someone else's (or gone)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

export class LockTimeoutError extends KilnError {
  readonly code = 'LOCK_TIMEOUT';
  constructor(key: string) {
    super(`could not take lock ${key}: another process holds it; retry later`);
  }
}

export interface WithLockOptions {
  /** How long the lock lives if never released. @defaultValue 30000 */
  ttlMs?: number;
  /** How long to wait for it. @defaultValue 30000 */
  waitMs?: number;
}

export async function withLock<T>(
  redis: Redis,
  key: string,
  fn: () => Promise<T>,
  options: WithLockOptions = {},
): Promise<T> {
  const ttl = options.ttlMs ?? 30_000;
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  const token = randomUUID();
  let delay = 5;
  for (;;) {
    const taken = await redis.set(key, token, 'PX', ttl, 'NX');
    if (taken === 'OK') break;
    if (Date.now() > deadline) throw new LockTimeoutError(key);
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}
