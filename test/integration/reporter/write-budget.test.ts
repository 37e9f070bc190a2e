import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisKeys } from '../../../src/redis/redis-keys.js';
import { createWriteBudget } from '../../../src/reporter/write-budget.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

describe.skipIf(!haveRedis())('GitHub write budget', () => {
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

  function keys() {
    return createRedisKeys(`t${randomUUID().slice(0, 8)}`);
  }

  it('keeps part of each minute for final states', async () => {
    const budget = createWriteBudget(redis, {
      keys: keys(),
      perMinute: 5,
      finalPerMinute: 2,
      routineSpacingMs: 0,
    });

    const routine = [];
    for (let index = 0; index < 4; index += 1)
      routine.push(await budget.take('routine'));
    const final = [];
    for (let index = 0; index < 3; index += 1)
      final.push(await budget.take('final'));

    expect(routine.slice(0, 3)).toEqual([0, 0, 0]);
    // The fourth routine write waits for the oldest to leave the minute.
    expect(routine[3]).toBeGreaterThan(55_000);
    expect(routine[3]).toBeLessThanOrEqual(60_000);
    expect(final.slice(0, 2)).toEqual([0, 0]);
    expect(final[2]).toBeGreaterThan(55_000);
  });

  it('spaces routine writes but lets final ones through at once', async () => {
    const budget = createWriteBudget(redis, {
      keys: keys(),
      routineSpacingMs: 1000,
    });

    const first = await budget.take('routine');
    const second = await budget.take('routine');
    const final = await budget.take('final');
    const third = await budget.take('routine');

    expect(first).toBe(0);
    expect(second).toBeGreaterThan(800);
    expect(second).toBeLessThanOrEqual(1000);
    expect(final).toBe(0);
    // Spaced from the newest write, the final one.
    expect(third).toBeGreaterThan(800);
  });

  it('is one budget for every kiln on the Redis, and counts only granted writes', async () => {
    const shared = keys();
    const options = { keys: shared, perMinute: 4, finalPerMinute: 0 };
    const connection = new Redis(server.url);
    const one = createWriteBudget(redis, { ...options, routineSpacingMs: 0 });
    const other = createWriteBudget(connection, {
      ...options,
      routineSpacingMs: 0,
    });

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        (index % 2 ? one : other).take('routine'),
      ),
    );
    connection.disconnect();

    expect(answers.filter((wait) => wait === 0)).toHaveLength(4);
    expect(await redis.zcard(shared.githubWrites)).toBe(4);
  });

  it('keeps to the hourly limit too', async () => {
    const budget = createWriteBudget(redis, {
      keys: keys(),
      perMinute: 100,
      perHour: 3,
      finalPerHour: 1,
      routineSpacingMs: 0,
    });

    const answers = [
      await budget.take('routine'),
      await budget.take('routine'),
      await budget.take('routine'),
      await budget.take('final'),
      await budget.take('final'),
    ];

    expect(answers.slice(0, 2)).toEqual([0, 0]);
    expect(answers[2]).toBeGreaterThan(3_500_000);
    expect(answers[3]).toBe(0);
    expect(answers[4]).toBeGreaterThan(3_500_000);
  });
});
