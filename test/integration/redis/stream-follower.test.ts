import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedis } from '../../../src/redis/check-redis.js';
import { connectRedis } from '../../../src/redis/connect-redis.js';
import {
  createStreamFollower,
  type StreamEntry,
} from '../../../src/redis/stream-follower.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

describe.skipIf(!haveRedis())(
  'createStreamFollower (real redis-server)',
  () => {
    let server: TestRedis;

    beforeAll(async () => {
      server = await startTestRedis();
    });

    afterAll(async () => {
      await server?.close();
    });

    it('hands a subscriber the entries added after it followed "$"', async () => {
      const redis = connectRedis(server.url, { role: 'producer' });
      await checkRedis(redis);
      const errors: unknown[] = [];
      const follower = createStreamFollower({
        redis,
        blockMs: 200,
        onError: (error) => errors.push(error),
      });
      await redis.xadd('s:follow', '*', 'n', 'before');
      const seen: string[] = [];
      let arrived: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (arrived = resolve));
      follower.follow('s:follow', '$', (entries: StreamEntry[]) => {
        for (const [, fields] of entries) seen.push(fields[1] as string);
        if (seen.includes('after')) arrived();
      });
      // The subscription resolves '$' before it reads: add until it is in.
      const deadline = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < deadline) {
        await redis.xadd('s:follow', '*', 'n', 'after');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await done;
      await follower.close();
      redis.disconnect();

      expect(seen).not.toContain('before');
      expect(errors).toEqual([]);
    });

    it('reports nothing when closed at once (a short CLI command)', async () => {
      const errors: unknown[] = [];
      for (let i = 0; i < 20; i += 1) {
        const redis = connectRedis(server.url, { role: 'producer' });
        const follower = createStreamFollower({
          redis,
          onError: (error) => errors.push(error),
        });
        await follower.close();
        redis.disconnect();
      }

      expect(errors).toEqual([]);
    });
  },
);
