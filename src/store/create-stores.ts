import type { Redis } from 'ioredis';
import type { ExecutionStore } from './execution-store.js';
import { createRedisExecutionStore } from './redis-execution-store.js';
import { createRedisRunStore } from './redis-run-store.js';
import type { RunStore } from './run-store.js';
import { createStoreKeys } from './store-keys.js';

export interface CreateStoresOptions {
  /** Prefix of every key, so instances can share a Redis. @defaultValue `kiln` */
  prefix?: string;
  /** @defaultValue 100000 */
  maxLogLines?: number;
  /** @defaultValue 100000 */
  maxMetricsEvents?: number;
}

export interface Stores {
  executions: ExecutionStore;
  runs: RunStore;
}

/**
 * The stores on one ioredis client. The client's options decide how it
 * behaves while Redis is down (see `connectRedis`).
 */
export function createStores(
  redis: Redis,
  options: CreateStoresOptions = {},
): Stores {
  const keys = createStoreKeys(options.prefix);
  return {
    executions: createRedisExecutionStore(redis, {
      keys,
      maxLogLines: options.maxLogLines,
      maxMetricsEvents: options.maxMetricsEvents,
    }),
    runs: createRedisRunStore(redis, { keys }),
  };
}
