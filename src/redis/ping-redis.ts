import { existsSync } from 'node:fs';
import { Redis, ReplyError, type RedisOptions } from 'ioredis';

export type PingResult = 'ok' | 'loading' | 'down';

/** One PING on a fresh connection that never retries (bounded by 2 s). */
export async function pingRedis(target: RedisOptions): Promise<PingResult> {
  // No socket file yet: nothing to connect to (and no client to tear down).
  if (target.path !== undefined && !existsSync(target.path)) return 'down';
  const client = new Redis({
    ...target,
    lazyConnect: true,
    connectTimeout: 2000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return 'ok';
  } catch (error) {
    // Redis answers LOADING while it replays a large AOF: it is alive.
    if (
      error instanceof ReplyError &&
      /^LOADING/.test((error as Error).message)
    ) {
      return 'loading';
    }
    return 'down';
  } finally {
    client.disconnect();
  }
}
