/**
 * ioredis clients with BullMQ's production advice (going-to-production
 * guide): workers wait for Redis forever (`maxRetriesPerRequest: null`),
 * producers fail fast (`enableOfflineQueue: false`) so an HTTP handler
 * answers 503 instead of hanging while Redis is down. Both reconnect with
 * a 1–20 s backoff.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

export type RedisRole = 'producer' | 'worker';

export interface ConnectRedisOptions {
  role: RedisRole;
  /** Connection errors are logged here (else dropped: commands report them). */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * `url` is a `redis://`/`rediss://` URL or the absolute path of a unix
 * socket (what `ensurePrivateRedis` gives). The client connects in the
 * background; `checkRedis` waits until it is ready.
 */
export function connectRedis(url: string, options: ConnectRedisOptions): Redis {
  const client = new Redis(url, redisOptionsFor(options.role));
  const { logger } = options;
  client.on('error', (error: Error) => {
    logger?.warn({ err: error.message }, 'redis connection error');
  });
  return client;
}

export function redisOptionsFor(role: RedisRole): RedisOptions {
  const common: RedisOptions = {
    connectTimeout: 10_000,
    retryStrategy: (times) => Math.max(Math.min(Math.exp(times), 20_000), 1000),
  };
  if (role === 'worker') {
    return { ...common, maxRetriesPerRequest: null };
  }
  return {
    ...common,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 5000,
    // Commands issued in the same tick (steps finishing together, a page
    // reading its records) leave in one write: fewer syscalls per step.
    enableAutoPipelining: true,
  };
}
