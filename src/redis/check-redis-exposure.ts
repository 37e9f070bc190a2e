/**
 * Refuses a Redis that steps could use as kiln does: one that answers
 * without a password at an address a `network: true` step can reach. Redis
 * holds every repository's secrets and the API tokens' hashes, so such a
 * step could read the secrets and forge an admin token.
 *
 * What counts as reachable is the step network's rule (can-step-reach.ts):
 * loopback and private addresses are out of a step's reach by construction,
 * so a password-less Redis there (the test suite's, a compose network's)
 * is accepted; a public address, an operator-allowed range, or any TCP
 * address when steps share the host's network is not. A unix socket (the
 * private redis-server kiln starts) is never reachable from a step.
 *
 * "Answers without a password" is asked of Redis itself, on a separate
 * connection that sends no credentials: a password in REDIS_URL that the
 * server does not enforce protects nothing.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Redis, ReplyError } from 'ioredis';
import { canStepReach, type StepReachPolicy } from '../net/can-step-reach.js';
import { isNonPublicAddress } from '../net/non-public-ranges.js';
import { RedisConfigError } from './redis-config-error.js';

export interface CheckRedisExposureOptions {
  /** `REDIS_URL`, or the unix socket path of the private redis-server. */
  url: string;
  policy: StepReachPolicy;
  /** `KILN_UNSAFE_REDIS_WITHOUT_PASSWORD`: warn instead of refusing. */
  allowUnprotected: boolean;
}

const PROBE_TIMEOUT_MS = 3000;

export async function checkRedisExposure(
  options: CheckRedisExposureOptions,
): Promise<{ warnings: string[] }> {
  if (!/^rediss?:\/\//i.test(options.url)) return { warnings: [] };
  const url = new URL(options.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 6379 : Number(url.port);
  const where = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  let addresses: string[];
  try {
    addresses = isIP(host)
      ? [host]
      : (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch (error) {
    return {
      warnings: [
        `could not resolve the Redis host ${host} (${(error as Error).message}) to check that steps can't reach it`,
      ],
    };
  }
  const reachable = addresses.filter((address) =>
    canStepReach(address, options.policy),
  );
  if (reachable.length === 0) return { warnings: [] };

  const answer = await pingWithoutPassword(url);
  if (answer === 'refused') return { warnings: [] };
  if (answer === 'unknown') {
    return {
      warnings: [
        `could not check whether the Redis at ${where} requires a password, and steps with network: true can reach ${reachable.join(', ')}: make sure it does`,
      ],
    };
  }
  const why = options.policy.hostNetwork
    ? "they share this host's network (KILN_UNSAFE_STEP_HOST_NETWORK=true)"
    : reachable.some(isNonPublicAddress)
      ? 'KILN_STEP_NETWORK_ALLOW lets them'
      : 'it is a public address';
  const problem = `the Redis at ${where} answers without a password, and steps with network: true can reach ${reachable.join(', ')} (${why}): any step could read every repository's secrets and forge API tokens`;
  if (options.allowUnprotected) {
    return {
      warnings: [
        `${problem} (started anyway: KILN_UNSAFE_REDIS_WITHOUT_PASSWORD=true)`,
      ],
    };
  }
  throw new RedisConfigError(
    'UNPROTECTED',
    `${problem} — set a password (requirepass in redis.conf, or an ACL user) and put it in REDIS_URL as ${url.protocol}//:PASSWORD@${where}, or have Redis listen only on loopback, a private address or a unix socket; to start anyway set KILN_UNSAFE_REDIS_WITHOUT_PASSWORD=true`,
  );
}

/**
 * PING on a fresh connection without credentials: `answered` means anyone
 * who can connect may use this Redis; `refused` means it wants a password
 * (NOAUTH), or refuses strangers otherwise (protected mode, ACL).
 */
async function pingWithoutPassword(
  url: URL,
): Promise<'answered' | 'refused' | 'unknown'> {
  const anonymous = new URL(url.href);
  anonymous.username = '';
  anonymous.password = '';
  const client = new Redis(anonymous.href, {
    lazyConnect: true,
    enableReadyCheck: false,
    connectTimeout: PROBE_TIMEOUT_MS,
    commandTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? 'answered' : 'unknown';
  } catch (error) {
    return error instanceof ReplyError ? 'refused' : 'unknown';
  } finally {
    client.disconnect();
  }
}
