/**
 * The start-up refusal of a Redis that steps could use, against real
 * redis-servers: one without a password and one with `requirepass`, both
 * on loopback (what the rest of the suite uses, and must keep using).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedisExposure } from '../../../src/redis/check-redis-exposure.js';
import { RedisConfigError } from '../../../src/redis/redis-config-error.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

const onStepNetwork = { hostNetwork: false, allow: [] };
const onHostNetwork = { hostNetwork: true, allow: [] };

describe.skipIf(!haveRedis())('checkRedisExposure', () => {
  let open: TestRedis;
  let locked: TestRedis;

  beforeAll(async () => {
    open = await startTestRedis();
    locked = await startTestRedis({ password: 'l0cked-pass' });
  });

  afterAll(async () => {
    await open?.close();
    await locked?.close();
  });

  it('accepts a Redis without a password on loopback: no step reaches loopback', async () => {
    const result = await checkRedisExposure({
      url: open.url,
      policy: onStepNetwork,
      allowUnprotected: false,
    });

    expect(result).toEqual({ warnings: [] });
  });

  it("accepts the private redis-server's unix socket", async () => {
    const result = await checkRedisExposure({
      url: '/var/lib/kiln/redis/redis.sock',
      policy: onHostNetwork,
      allowUnprotected: false,
    });

    expect(result).toEqual({ warnings: [] });
  });

  it('refuses it when steps share the host network, saying how to fix it', async () => {
    const attempt = checkRedisExposure({
      url: open.url,
      policy: onHostNetwork,
      allowUnprotected: false,
    });

    await expect(attempt).rejects.toThrow(RedisConfigError);
    await expect(attempt).rejects.toMatchObject({
      code: 'UNPROTECTED',
      message: expect.stringContaining(
        `the Redis at 127.0.0.1:${open.port} answers without a password, and steps with network: true can reach 127.0.0.1 (they share this host's network (KILN_UNSAFE_STEP_HOST_NETWORK=true))`,
      ),
    });
    await expect(attempt).rejects.toThrow(
      `set a password (requirepass in redis.conf, or an ACL user) and put it in REDIS_URL as redis://:PASSWORD@127.0.0.1:${open.port}`,
    );
    await expect(attempt).rejects.toThrow(
      'to start anyway set KILN_UNSAFE_REDIS_WITHOUT_PASSWORD=true',
    );
  });

  it('refuses it in a range the operator let steps reach, found through its host name', async () => {
    const attempt = checkRedisExposure({
      url: `redis://localhost:${open.port}`,
      policy: { hostNetwork: false, allow: ['127.0.0.0/8'] },
      allowUnprotected: false,
    });

    await expect(attempt).rejects.toThrow(/KILN_STEP_NETWORK_ALLOW lets them/);
  });

  it('asks Redis, not the URL: a password the server does not enforce protects nothing, and is never shown', async () => {
    const url = `redis://:not-enforced-s3cret@127.0.0.1:${open.port}`;

    const attempt = checkRedisExposure({
      url,
      policy: onHostNetwork,
      allowUnprotected: false,
    });

    await expect(attempt).rejects.toMatchObject({ code: 'UNPROTECTED' });
    await expect(attempt).rejects.not.toThrow(/s3cret/);
  });

  it('accepts a Redis that requires a password, wherever steps reach', async () => {
    const result = await checkRedisExposure({
      url: locked.url,
      policy: onHostNetwork,
      allowUnprotected: false,
    });

    expect(result).toEqual({ warnings: [] });
  });

  it('starts with a warning when the operator says so', async () => {
    const result = await checkRedisExposure({
      url: open.url,
      policy: onHostNetwork,
      allowUnprotected: true,
    });

    expect(result.warnings).toEqual([
      expect.stringMatching(
        /answers without a password.*\(started anyway: KILN_UNSAFE_REDIS_WITHOUT_PASSWORD=true\)$/,
      ),
    ]);
  });
});
