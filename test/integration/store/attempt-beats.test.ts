/**
 * Attempt heartbeats on a real Redis: a takeover waits while an attempt
 * beats, and takes over only after the beat has been missing for the
 * whole grace — on Redis's clock, so a live worker whose beat lapsed while
 * Redis was away gets time to beat again.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisKeys } from '../../../src/redis/redis-keys.js';
import { createRedisAttemptBeats } from '../../../src/store/attempt-beats.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

describe.skipIf(!haveRedis())('attempt heartbeats', () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.close();
  });

  function beats() {
    return createRedisAttemptBeats(redis, createRedisKeys(`t-${randomUUID()}`));
  }

  it('an attempt that beats is alive', async () => {
    const store = beats();

    await store.beat(['e-1'], 10_000);

    expect(await store.judge('e-1', 60_000)).toBe('alive');
  });

  it('a missing beat is waited for through the grace, then lost', async () => {
    const store = beats();

    const first = await store.judge('e-2', 300);
    const soon = await store.judge('e-2', 300);
    await waitUntil(async () => (await store.judge('e-2', 300)) === 'lost');

    expect([first, soon]).toEqual(['wait', 'wait']);
  });

  it('a beat that comes back clears the suspicion: the grace starts over', async () => {
    const store = beats();
    expect(await store.judge('e-3', 300)).toBe('wait');
    await store.beat(['e-3'], 10_000);
    expect(await store.judge('e-3', 300)).toBe('alive');

    await store.end('e-3');

    expect(await store.judge('e-3', 300)).toBe('wait');
  });

  it('a beat lives for its time to live only', async () => {
    const store = beats();

    await store.beat(['e-4'], 50);

    await waitUntil(async () => (await store.judge('e-4', 60_000)) === 'wait');
  });
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
