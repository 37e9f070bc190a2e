/**
 * The reporter's lock (issue 11 item 9: it was released with an
 * unconditional DEL). A holder whose lock lapsed and was taken by another
 * must neither renew nor release the other's lock; a live holder's lock
 * is renewed past its TTL and released at the end. Real redis-server.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withRedisLock } from '../../../src/redis/with-redis-lock.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

async function until(what: string, check: () => Promise<boolean>) {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe.skipIf(!haveRedis())('withRedisLock', () => {
  let server: TestRedis;
  let redis: Redis;
  let other: Redis;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    other = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    other?.disconnect();
    await server?.close();
  });

  it('keeps a live holder’s lock past its TTL, refuses a second taker, and releases it at the end', async () => {
    const key = 'lock:live';
    const result = await withRedisLock(redis, { key, ttlMs: 300 }, async () => {
      const started = Date.now();
      // Three TTLs: without renewal the lock would have lapsed.
      await until('three TTLs to pass', async () => Date.now() - started > 900);
      const second = await withRedisLock(other, { key }, async () => 'no');
      return { second, held: await redis.exists(key) };
    });

    expect(result).toEqual({
      locked: true,
      value: { second: { locked: false }, held: 1 },
    });
    expect(await redis.exists(key)).toBe(0);
  });

  it('neither renews nor releases a lock that lapsed and was taken by another', async () => {
    const key = 'lock:lapsed';
    const result = await withRedisLock(redis, { key, ttlMs: 300 }, async () => {
      // The lock lapses (a Redis failover, a stalled process) and another
      // kiln takes it for 3 s, without renewing.
      await redis.del(key);
      expect(await other.set(key, 'theirs', 'PX', 3_000, 'NX')).toBe('OK');
      // Long enough for this holder to try renewing three times (every
      // 100 ms): had it renewed theirs, its TTL would be back at 300 ms.
      await until('their TTL to run down', async () => {
        const ttl = await other.pttl(key);
        return ttl < 2_600;
      });
      return other.pttl(key);
    });

    expect(result.locked).toBe(true);
    expect((result as { value: number }).value).toBeGreaterThan(300);
    expect(await other.get(key)).toBe('theirs');
  });
});
