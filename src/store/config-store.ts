/**
 * The configuration texts runs were created from, stored once per content
 * hash: every worker re-reads exactly what a run was planned with, even if
 * the branch moved on.
 *
 * Contract: `store` is idempotent (same text, same key); `load` resolves
 * null for a key never stored (or one removed by an operator).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';

export interface ConfigStore {
  /** The text's key (its sha256). */
  store(text: string): Promise<string>;
  load(key: string): Promise<string | null>;
}

export function createConfigStore(redis: Redis, keys: RedisKeys): ConfigStore {
  return {
    async store(text) {
      const key = createHash('sha256').update(text).digest('hex');
      await redis.set(keys.config(key), text, 'NX');
      return key;
    },
    load(key) {
      return redis.get(keys.config(key));
    },
  };
}
