/**
 * Startup check of the Redis kiln will use (reliability plan §5): eviction
 * may silently drop queued jobs, so anything but `noeviction` refuses to
 * start; no AOF only warns, since a restart then loses recent writes.
 *
 * Reads the settings with CONFIG GET, and with INFO when CONFIG is renamed
 * or denied (managed Redis); warns when neither is allowed.
 */
import { once } from 'node:events';
import { ReplyError, type Redis } from 'ioredis';
import { RedisConfigError } from './redis-config-error.js';

export interface CheckRedisOptions {
  /** How long to wait for the connection to be ready. @defaultValue 10000 */
  readyTimeoutMs?: number;
}

interface RedisSettings {
  policy?: string;
  appendOnly?: boolean;
}

export async function checkRedis(
  redis: Redis,
  options: CheckRedisOptions = {},
): Promise<{ warnings: string[] }> {
  await waitUntilReady(redis, options.readyTimeoutMs ?? 10_000);
  const warnings: string[] = [];
  const settings = await readSettings(redis);
  if (settings.policy === undefined) {
    warnings.push(
      'could not check Redis maxmemory-policy (CONFIG and INFO are not allowed): make sure it is noeviction, or queued jobs may be dropped',
    );
  } else if (settings.policy !== 'noeviction') {
    throw new RedisConfigError(
      'EVICTION_POLICY',
      `kiln needs maxmemory-policy noeviction: with eviction Redis may silently drop queued jobs — set it in redis.conf or run CONFIG SET maxmemory-policy noeviction (it is ${settings.policy})`,
    );
  }
  if (settings.appendOnly === undefined) {
    warnings.push(
      'could not check whether Redis has appendonly yes (CONFIG and INFO are not allowed): without it a Redis restart loses recent runs and queued jobs',
    );
  } else if (!settings.appendOnly) {
    warnings.push(
      'Redis runs with appendonly no: a restart loses runs and queued jobs written since the last snapshot — set appendonly yes (appendfsync everysec) in redis.conf or run CONFIG SET appendonly yes',
    );
  }
  return { warnings };
}

async function readSettings(redis: Redis): Promise<RedisSettings> {
  const fromConfig = await readWithConfig(redis);
  if (fromConfig.policy !== undefined && fromConfig.appendOnly !== undefined) {
    return fromConfig;
  }
  const fromInfo = await readWithInfo(redis);
  return {
    policy: fromConfig.policy ?? fromInfo.policy,
    appendOnly: fromConfig.appendOnly ?? fromInfo.appendOnly,
  };
}

async function readWithConfig(redis: Redis): Promise<RedisSettings> {
  try {
    const policy = (await redis.config('GET', 'maxmemory-policy')) as unknown[];
    const appendOnly = (await redis.config('GET', 'appendonly')) as unknown[];
    return {
      policy: typeof policy[1] === 'string' ? policy[1] : undefined,
      appendOnly:
        typeof appendOnly[1] === 'string' ? appendOnly[1] === 'yes' : undefined,
    };
  } catch (error) {
    // A denied or renamed command is a reply; anything else is a real
    // connection problem the caller must see.
    if (error instanceof ReplyError) return {};
    throw error;
  }
}

async function readWithInfo(redis: Redis): Promise<RedisSettings> {
  try {
    const text = `${await redis.info('memory')}\n${await redis.info('persistence')}`;
    const policy = /^maxmemory_policy:(\S+)/m.exec(text)?.[1];
    const aof = /^aof_enabled:(\d)/m.exec(text)?.[1];
    return {
      policy,
      appendOnly: aof === undefined ? undefined : aof === '1',
    };
  } catch (error) {
    if (error instanceof ReplyError) return {};
    throw error;
  }
}

/**
 * Clients made with `enableOfflineQueue: false` refuse commands until
 * connected; waiting here keeps the first check from failing spuriously.
 */
async function waitUntilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'wait') redis.connect().catch(() => undefined);
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    await once(redis, 'ready', { signal: timeout });
  } catch (error) {
    const reason =
      error instanceof Error && error.name !== 'AbortError'
        ? error.message
        : `no answer within ${timeoutMs} ms`;
    throw new RedisConfigError(
      'UNREACHABLE',
      `cannot reach Redis (${reason}): start it, or check REDIS_URL`,
      { cause: error },
    );
  }
}
