/**
 * Secret values the log masker can't hide are refused when they are set
 * (issue 11 item 8: a 3-character secret was accepted and then shown in
 * clear, the masker leaving values under 4 characters alone).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretMasker } from '../../../src/metrics/secret-masker.js';
import { createRedisKeys } from '../../../src/redis/redis-keys.js';
import {
  createSecretStore,
  SecretValueError,
} from '../../../src/secrets/secret-store.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

describe.skipIf(!haveRedis())('secret values', () => {
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

  function store() {
    return createSecretStore(redis, createRedisKeys(`t-${randomUUID()}`));
  }

  it('refuses a value too short to be masked, saying why, and stores nothing', async () => {
    const secrets = store();
    // What the masker does with it: nothing.
    expect(createSecretMasker(['abc'])('token=abc')).toBe('token=abc');

    const error = await secrets.set('acme/models', 'PIN', 'abc').then(
      () => undefined,
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(SecretValueError);
    expect((error as SecretValueError).code).toBe('INVALID_SECRET_VALUE');
    expect((error as Error).message).toBe(
      `the value of secret "PIN" is 3 characters long: values under 4 can't be masked in step logs; use a longer one`,
    );
    expect(await secrets.names('acme/models')).toEqual([]);
  });

  it.each(['', '  \n', ' ab \n'])('refuses %j', async (value) => {
    await expect(store().set('acme/models', 'PIN', value)).rejects.toThrow(
      SecretValueError,
    );
  });

  it('keeps a value long enough to be masked', async () => {
    const secrets = store();

    await secrets.set('acme/models', 'PIN', 'abcd');

    expect(await secrets.values('acme/models')).toEqual({ PIN: 'abcd' });
    expect(createSecretMasker(['abcd'])('token=abcd')).toBe('token=***');
  });
});
