import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkRedis } from '../../../src/redis/check-redis.js';
import { connectRedis } from '../../../src/redis/connect-redis.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

describe.skipIf(!haveRedis())('checkRedis', () => {
  let server: TestRedis;
  let admin: Redis;
  const clients: Redis[] = [];

  function client(url = server.url): Redis {
    const redis = new Redis(url);
    clients.push(redis);
    return redis;
  }

  beforeAll(async () => {
    server = await startTestRedis();
    admin = new Redis(server.url);
  });

  afterEach(async () => {
    for (const redis of clients.splice(0)) redis.disconnect();
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'appendonly', 'yes');
  });

  afterAll(async () => {
    admin?.disconnect();
    await server?.close();
  });

  it('passes a noeviction Redis with AOF without warnings', async () => {
    const result = await checkRedis(client());

    expect(result).toEqual({ warnings: [] });
  });

  it('refuses a Redis that may evict keys', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');

    await expect(checkRedis(client())).rejects.toMatchObject({
      name: 'RedisConfigError',
      code: 'EVICTION_POLICY',
      message: expect.stringContaining(
        'kiln needs maxmemory-policy noeviction',
      ),
    });
  });

  it('warns when AOF is off', async () => {
    await admin.config('SET', 'appendonly', 'no');

    const { warnings } = await checkRedis(client());

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('appendonly no');
  });

  it('falls back to INFO when CONFIG is denied', async () => {
    await admin.call(
      'ACL',
      'SETUSER',
      'no-config',
      'on',
      '>secret',
      '~*',
      '&*',
      '+@all',
      '-config',
    );
    await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
    const url = server.url.replace('redis://', 'redis://no-config:secret@');

    await expect(checkRedis(client(url))).rejects.toMatchObject({
      code: 'EVICTION_POLICY',
    });
  });

  it('warns when neither CONFIG nor INFO is allowed', async () => {
    await admin.call(
      'ACL',
      'SETUSER',
      'locked',
      'on',
      '>secret',
      '~*',
      '&*',
      '+@all',
      '-config',
      '-info',
    );
    const url = server.url.replace('redis://', 'redis://locked:secret@');

    const { warnings } = await checkRedis(client(url));

    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('could not check Redis maxmemory-policy');
  });

  it('waits for a fail-fast producer client to connect', async () => {
    const producer = connectRedis(server.url, { role: 'producer' });
    clients.push(producer);

    const result = await checkRedis(producer);

    expect(result.warnings).toEqual([]);
    expect(producer.status).toBe('ready');
  });

  it('reports an unreachable Redis with a typed error', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      retryStrategy: () => null,
    });
    clients.push(down);
    down.on('error', () => undefined);

    await expect(
      checkRedis(down, { readyTimeoutMs: 2000 }),
    ).rejects.toMatchObject({
      code: 'UNREACHABLE',
    });
  });
});
