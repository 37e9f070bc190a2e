/**
 * The shared GitHub backoff between hosts whose clocks disagree by 5 min
 * (reliability plan F27): a reporter whose clock is ahead sets a 60 s
 * wait; a reporter whose clock is right (or behind) waits those 60 s — not
 * 5 more minutes, and not nothing — because the wait is read from the
 * key's time to live on Redis's clock, never from the other host's time.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  extendBackoff,
  readBackoff,
} from '../../../src/reporter/github-backoff.js';
import { createRedisKeys } from '../../../src/redis/redis-keys.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

const SKEW_MS = 5 * 60_000;
const WAIT_MS = 60_000;

describe.skipIf(!haveRedis())('the GitHub backoff across skewed clocks', () => {
  let server: TestRedis;
  let redis: Redis;
  const keys = createRedisKeys('skew');
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.close();
  });

  for (const skew of [SKEW_MS, -SKEW_MS]) {
    it(`a wait set by a host ${skew > 0 ? 'ahead' : 'behind'} by 5 min lasts its own length for the others`, async () => {
      await redis.del(keys.githubBackoff);
      const writerNow = Date.now() + skew;
      await extendBackoff(redis, {
        keys,
        until: writerNow + WAIT_MS,
        now: writerNow,
      });
      const readerNow = Date.now();
      const until = await readBackoff(redis, keys, () => readerNow);
      expect(until - readerNow).toBeGreaterThan(WAIT_MS - 5_000);
      expect(until - readerNow).toBeLessThanOrEqual(WAIT_MS);
    });
  }

  it('a shorter wait from a host ahead does not cut a longer one', async () => {
    await redis.del(keys.githubBackoff);
    const now = Date.now();
    await extendBackoff(redis, { keys, until: now + WAIT_MS, now });
    const ahead = now + SKEW_MS;
    await extendBackoff(redis, { keys, until: ahead + 2_000, now: ahead });
    const until = await readBackoff(redis, keys, () => now);
    expect(until - now).toBeGreaterThan(WAIT_MS - 5_000);
  });

  it('is free once the wait is over', async () => {
    await redis.del(keys.githubBackoff);
    expect(await readBackoff(redis, keys)).toBe(0);
  });
});
