/**
 * Records written by an older kiln (store schema 1: a run's nodes in one
 * JSON array, executions found by counter in a hash, queues under BullMQ's
 * default `bull:` prefix) are migrated once at start: nothing is lost, an
 * interrupted step runs again, waiting deliveries carry over — or kiln
 * refuses with what to do while an older kiln still works.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../../src/redis/redis-keys.js';
import { createStores } from '../../../src/store/index.js';
import { migrateStore } from '../../../src/store/migrate-store.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

const CONFIG = `
- step: {name: s, image: busybox, command: "true"}
- pipeline:
    name: p
    nodes:
      - {name: prepare, type: execution, step: s}
      - {name: train, type: execution, step: s}
      - {name: evaluate, type: execution, step: s}
    edges:
      - [prepare.output.*, train.input.a]
      - [train.output.*, evaluate.input.a]
`;

describe.skipIf(!haveRedis())('store migration from schema 1', () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.close();
  });

  /** A schema-1 run, execution and waiting delivery, as kiln 0.1 wrote them. */
  async function writeSchemaOne(prefix: string) {
    const store = `${prefix}:store:`;
    await redis.set(`${prefix}:config:k1`, CONFIG);
    await redis.hset(`${store}run:r1`, {
      id: '"r1"',
      counter: '1',
      repository: '"acme/models"',
      commit: `"${'a'.repeat(40)}"`,
      ref: '"refs/heads/main"',
      kind: '"pipeline"',
      name: '"p"',
      status: '"running"',
      parameters: '{}',
      createdAt: '"2026-11-30T10:00:00.000Z"',
      config: '{"file":"kiln.yaml","key":"k1"}',
      nodes: JSON.stringify([
        {
          name: 'prepare',
          step: 's',
          status: 'complete',
          attempt: 1,
          executionId: 'r1-0-1',
        },
        {
          name: 'train',
          step: 's',
          status: 'started',
          attempt: 1,
          executionId: 'r1-1-1',
        },
        { name: 'evaluate', step: 's', status: 'pending', attempt: 1 },
      ]),
    });
    await redis.zadd(`${store}runs`, 1, 'r1');
    await redis.zadd(`${store}runs-of-status:running`, 1, 'r1');
    await redis.hset(`${store}exec:r1-1-1`, {
      id: '"r1-1-1"',
      repository: '"acme/models"',
      counter: '7',
      status: '"started"',
      attempt: '1',
    });
    await redis.hset(
      `${store}exec-by-counter`,
      JSON.stringify(['acme/models', 7]),
      'r1-1-1',
    );
    await redis.zadd(
      `${store}execs-of-repo:acme%2Fmodels`,
      1764496800000000,
      'r1-1-1',
    );
    const intake = new Queue(QUEUES.intake, { connection: redis });
    await intake.add(
      'delivery',
      { deliveryId: 'd-1', event: 'push', payload: '{}' },
      { jobId: 'd-d-1', attempts: 5 },
    );
    await intake.close();
  }

  it('moves runs, executions and waiting deliveries to schema 2, once', async () => {
    const prefix = `m-${randomUUID()}`;
    await writeSchemaOne(prefix);
    const stores = createStores(redis, { prefix });
    const options = {
      redis,
      bull: redis,
      keys: stores.keys,
      logger: pino({ level: 'silent' }),
    };

    const report = await migrateStore(options);
    const again = await migrateStore(options);

    expect(report).toMatchObject({
      from: 1,
      runs: 1,
      cancelled: [],
      movedJobs: 1,
    });
    expect(again).toBeNull();
    const run = await stores.runs.getRun('r1');
    expect(
      run?.nodes.map((node) => [
        node.name,
        node.index,
        node.status,
        node.attempt,
        node.generation,
      ]),
    ).toEqual([
      ['prepare', 0, 'complete', 1, 1],
      ['train', 1, 'queued', 1, 1],
      ['evaluate', 2, 'pending', 0, 0],
    ]);
    expect(
      await stores.executions.getExecutionByCounter('acme/models', 7),
    ).toMatchObject({
      id: 'r1-1-1',
      status: 'error',
      endReason: {
        kind: 'infra-error',
        message: 'interrupted by an upgrade of kiln',
      },
    });
    const moved = new Queue(QUEUES.intake, {
      connection: redis,
      prefix: stores.keys.bullPrefix,
    });
    expect((await moved.getJobs(['wait'])).map((job) => job.id)).toEqual([
      'd-d-1',
    ]);
    await moved.close();
    expect(await redis.exists(`bull:${QUEUES.intake}:id`)).toBe(0);
    expect(await redis.get(stores.keys.schema)).toBe('2');
  });

  it('refuses while an older kiln still works on a job, saying what to do', async () => {
    const prefix = `m-${randomUUID()}`;
    const name = QUEUES.intake;
    const old = new Queue(name, { connection: redis });
    await old.obliterate({ force: true });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let taken: () => void = () => undefined;
    const working = new Promise<void>((resolve) => (taken = resolve));
    const worker = new Worker(
      name,
      async () => {
        taken();
        await held;
      },
      { connection: new Redis(server.url, { maxRetriesPerRequest: null }) },
    );
    await old.add('delivery', { deliveryId: 'd-2' });
    await working;
    const stores = createStores(redis, { prefix });

    const attempt = migrateStore({
      redis,
      bull: redis,
      keys: stores.keys,
      logger: pino({ level: 'silent' }),
    });

    await expect(attempt).rejects.toMatchObject({
      code: 'OLDER_KILN_RUNNING',
      message: expect.stringContaining('stop every older kiln process'),
    });
    expect(await redis.get(stores.keys.schema)).toBeNull();
    release();
    await worker.close();
    await old.obliterate({ force: true });
    await old.close();
  });
});
