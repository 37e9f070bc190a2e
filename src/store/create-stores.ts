import type { Redis } from 'ioredis';
import { createRedisKeys, type RedisKeys } from '../redis/redis-keys.js';
import { createConfigStore, type ConfigStore } from './config-store.js';
import type { ExecutionStore } from './execution-store.js';
import { createRedisExecutionStore } from './redis-execution-store.js';
import { createRedisRunStore } from './redis-run-store.js';
import type { RunStore } from './run-store.js';

export interface CreateStoresOptions {
  /** Prefix of every key, so instances can share a Redis. @defaultValue `kiln` */
  prefix?: string;
  /** @defaultValue 100000 */
  maxLogLines?: number;
  /** @defaultValue 100000 */
  maxMetricsEvents?: number;
}

export interface Stores {
  keys: RedisKeys;
  executions: ExecutionStore;
  runs: RunStore;
  configs: ConfigStore;
}

/**
 * The stores on one ioredis client. The client's options decide how it
 * behaves while Redis is down (see `connectRedis`).
 */
export function createStores(
  redis: Redis,
  options: CreateStoresOptions = {},
): Stores {
  const keys = createRedisKeys(options.prefix);
  const limits = {
    maxLogLines: options.maxLogLines,
    maxMetricsEvents: options.maxMetricsEvents,
  };
  return {
    keys,
    executions: createRedisExecutionStore(redis, { keys, ...limits }),
    runs: createRedisRunStore(redis, { keys, ...limits }),
    configs: createConfigStore(redis, keys),
  };
}
