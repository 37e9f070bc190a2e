/**
 * Links to the chart image of a PR comment. GitHub's image proxy fetches
 * the image without kiln credentials, so the link itself is the key: it
 * names the PR's run and its base run and carries an HMAC of both under a
 * secret kept in Redis (made once, shared by every kiln on it). Anyone
 * with the link — whoever can read the comment — sees those two runs'
 * curves, nothing else; a link can't be changed to show other runs.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';

export const CHART_PATH = '/charts';

export interface ChartSigner {
  /** The signature of the chart of `runId` against `baseId`. */
  sign(runId: string, baseId: string | undefined): Promise<string>;
  verify(
    runId: string,
    baseId: string | undefined,
    signature: string,
  ): Promise<boolean>;
}

export function createChartSigner(redis: Redis, keys: RedisKeys): ChartSigner {
  let secret: Promise<string> | undefined;

  async function loadSecret(): Promise<string> {
    const made = randomBytes(32).toString('hex');
    await redis.set(keys.githubChartKey, made, 'NX');
    const stored = await redis.get(keys.githubChartKey);
    if (!stored) throw new Error('the chart link secret could not be stored');
    return stored;
  }

  async function sign(runId: string, baseId: string | undefined) {
    secret ??= loadSecret().catch((error: unknown) => {
      secret = undefined;
      throw error;
    });
    return createHmac('sha256', await secret)
      .update(`${runId}\n${baseId ?? ''}`)
      .digest('base64url')
      .slice(0, 32);
  }

  return {
    sign,
    async verify(runId, baseId, signature) {
      const expected = Buffer.from(await sign(runId, baseId));
      const given = Buffer.from(signature);
      return (
        given.length === expected.length && timingSafeEqual(given, expected)
      );
    },
  };
}

/** `https://kiln.example.com/charts/<run>.svg?base=<run>&sig=<hmac>` */
export function chartUrl(options: {
  publicUrl: string;
  runId: string;
  baseId?: string;
  signature: string;
}): string {
  const query = new URLSearchParams();
  if (options.baseId !== undefined) query.set('base', options.baseId);
  query.set('sig', options.signature);
  return `${options.publicUrl.replace(/\/+$/, '')}${CHART_PATH}/${encodeURIComponent(options.runId)}.svg?${query.toString()}`;
}
