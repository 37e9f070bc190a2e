import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { listIndexScript } from './execution-scripts.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import { runScript } from './store-script.js';

export interface ListIdsOptions {
  /** Index zsets to AND together; at least one. */
  indexes: readonly string[];
  offset: number;
  limit: number;
}

const MAX_LIMIT = 1000;

/** One page of ids in all given indexes, newest first. */
export async function listIds(
  redis: Redis,
  keys: RedisKeys,
  options: ListIdsOptions,
): Promise<string[]> {
  const offset = clampInteger(options.offset, 0, Number.MAX_SAFE_INTEGER);
  const limit = clampInteger(options.limit, 0, MAX_LIMIT);
  if (limit === 0 || options.indexes.length === 0) return [];
  const stop = offset + limit - 1;
  const [only] = options.indexes;
  if (options.indexes.length === 1 && only !== undefined) {
    return redis.zrevrange(only, offset, stop);
  }
  const ids = await runScript(redis, listIndexScript, {
    keys: [keys.scratch(randomUUID()), ...options.indexes],
    args: [offset, stop],
  });
  return Array.isArray(ids) ? ids.map(String) : [];
}

function clampInteger(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min;
  return Math.min(max, Math.max(min, Math.trunc(value)));
}
