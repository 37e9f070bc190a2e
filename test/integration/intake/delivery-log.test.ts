import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryLog } from '../../../src/intake/delivery-log.js';
import { createRedisKeys } from '../../../src/redis/redis-keys.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

describe.skipIf(!haveRedis())('delivery log', () => {
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

  it('upserts records, newest first, and keeps only the cap', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const log = createDeliveryLog(redis, {
      keys: createRedisKeys('capped'),
      cap: 3,
      now: () => new Date((clock += 1000)),
    });
    for (const id of ['a', 'b', 'c', 'd']) {
      await log.recordDelivery(id, { status: 'queued', event: 'push' });
    }
    await log.recordDelivery('b', {
      status: 'runs-created',
      runIds: ['r1', 'r2'],
    });
    const listed = await log.listDeliveries({ limit: 10 });
    expect(listed.map((record) => record.id)).toEqual(['d', 'c', 'b']);
    expect(await log.getDelivery('a')).toBeNull();
    expect(await redis.exists('capped:delivery-log:a')).toBe(0);
    const b = await log.getDelivery('b');
    expect(b).toMatchObject({
      status: 'runs-created',
      event: 'push',
      runIds: ['r1', 'r2'],
      receivedAt: '2026-01-01T00:00:02.000Z',
      updatedAt: '2026-01-01T00:00:05.000Z',
    });
    expect(
      (await log.listDeliveries({ limit: 1, offset: 1 })).map((r) => r.id),
    ).toEqual(['c']);
  });

  it('never lets a late "queued" overwrite the outcome the worker recorded', async () => {
    const log = createDeliveryLog(redis, { keys: createRedisKeys('race') });
    await log.recordDelivery('z', { status: 'ignored', reason: 'ping' });
    await log.recordDelivery(
      'z',
      { status: 'queued', event: 'ping' },
      { keepExisting: true },
    );
    expect(await log.getDelivery('z')).toMatchObject({
      status: 'ignored',
      reason: 'ping',
      event: 'ping',
    });
  });

  it('counts duplicates only on existing records', async () => {
    const log = createDeliveryLog(redis, { keys: createRedisKeys('dup') });
    await log.countDuplicate('missing');
    expect(await log.getDelivery('missing')).toBeNull();
    await log.recordDelivery('x', { status: 'queued' });
    await log.countDuplicate('x');
    await log.countDuplicate('x');
    expect((await log.getDelivery('x'))?.duplicates).toBe(2);
  });
});
