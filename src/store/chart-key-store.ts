/**
 * The secret the PR comment's chart image links are signed with, in Redis
 * under the kiln prefix (`keys.githubChartKey`).
 *
 * Contract: `chartKey` resolves with the same secret in every process on
 * this Redis, for as long as the key stays: the first caller makes it
 * (set only if absent, so concurrent first callers agree on one) and every
 * later one reads it. It rejects when Redis does not answer.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';

export interface ChartKeyStore {
  chartKey(): Promise<string>;
}

export function createChartKeyStore(
  redis: Redis,
  keys: RedisKeys,
): ChartKeyStore {
  return {
    async chartKey() {
      const made = randomBytes(32).toString('hex');
      await redis.set(keys.githubChartKey, made, 'NX');
      const stored = await redis.get(keys.githubChartKey);
      if (!stored) throw new Error('the chart link secret could not be stored');
      return stored;
    },
  };
}
