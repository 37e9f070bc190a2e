import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedis } from '../../../src/redis/check-redis.js';
import { connectRedis } from '../../../src/redis/connect-redis.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

describe.skipIf(!haveRedis())('connectRedis while Redis restarts', () => {
  let server: TestRedis;

  beforeAll(async () => {
    server = await startTestRedis();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('fails producers fast and lets workers wait for Redis to return', async () => {
    const producer = connectRedis(server.url, { role: 'producer' });
    const worker = connectRedis(server.url, { role: 'worker' });
    await checkRedis(producer);
    await checkRedis(worker);
    await server.stop();

    const refused = producer.set('kiln:k', 'lost');
    const waiting = worker.set('kiln:k', 'kept');
    await expect(refused).rejects.toThrow();
    await server.restart();
    const stored = await waiting;
    const value = await worker.get('kiln:k');
    producer.disconnect();
    worker.disconnect();

    expect(stored).toBe('OK');
    expect(value).toBe('kept');
  });
});
