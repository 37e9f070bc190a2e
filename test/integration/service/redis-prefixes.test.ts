/**
 * Two kilns on one redis-server, told apart by KILN_REDIS_PREFIX: each
 * worker takes only its own kiln's steps, each kiln lists only its own
 * runs and deliveries, and every key either writes — BullMQ's included —
 * sits under its prefix.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import { createRun } from '../../../src/control/create-run.js';
import { createDeliveryLog } from '../../../src/intake/delivery-log.js';
import { createStepQueue } from '../../../src/queue/step-jobs.js';
import { redisOptionsFor } from '../../../src/redis/connect-redis.js';
import { createStores } from '../../../src/store/index.js';
import { haveRedis } from '../../helpers/services.js';
import {
  startServiceFixture,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

const CONFIG = `
- step:
    name: hello
    image: busybox
    command: echo hello
- pipeline:
    name: two
    nodes:
      - {name: first, type: execution, step: hello}
      - {name: second, type: execution, step: hello}
    edges:
      - [first.output.*, second.input.x]
`;

describe.skipIf(!haveRedis())('two kilns on one Redis', () => {
  let fixture: ServiceFixture;
  let bull: Redis;
  beforeAll(async () => {
    fixture = await startServiceFixture();
    bull = new Redis(fixture.redis.url, redisOptionsFor('worker'));
  }, 120_000);
  afterAll(async () => {
    bull?.disconnect();
    await fixture?.close();
  }, 60_000);

  function kiln(prefix: string): ControlDeps {
    const stores = createStores(fixture.redisClient, { prefix });
    return {
      ...stores,
      steps: createStepQueue(bull, stores.keys.bullPrefix),
      logger: pino({ level: 'silent' }),
    };
  }

  it('never see each other’s jobs, runs or deliveries', async () => {
    const a = kiln('tenant-a');
    const b = kiln('tenant-b');
    const workerA = await fixture.spawnWorker({
      id: 'prefix-a',
      runtime: 'null',
      env: { KILN_REDIS_PREFIX: 'tenant-a' },
    });
    const workerB = await fixture.spawnWorker({
      id: 'prefix-b',
      runtime: 'null',
      env: { KILN_REDIS_PREFIX: 'tenant-b' },
    });
    const request = {
      repository: 'acme/models',
      source: { id: 'acme/models', url: '/nowhere' },
      commit: 'c'.repeat(40),
      ref: 'refs/heads/main',
      name: 'two',
      configText: CONFIG,
      configFile: 'kiln.yaml',
    };

    const runA = await createRun(a, request);
    const runB = await createRun(b, request);
    const doneA = await waitForRun(
      { ...fixture, deps: a },
      runA.id,
      (run) => run.status === 'complete',
    );
    const doneB = await waitForRun(
      { ...fixture, deps: b },
      runB.id,
      (run) => run.status === 'complete',
    );
    await createDeliveryLog(fixture.redisClient, {
      keys: createStores(fixture.redisClient, { prefix: 'tenant-a' }).keys,
    }).recordDelivery('d-1', {
      deliveryId: 'd-1',
      event: 'push',
      status: 'queued',
    });

    // Each worker ran its own kiln's steps only.
    expect(doneA.nodes.map((node) => node.status)).toEqual([
      'complete',
      'complete',
    ]);
    expect(doneB.nodes.map((node) => node.status)).toEqual([
      'complete',
      'complete',
    ]);
    expect(workerA.output()).toContain(runA.id);
    expect(workerA.output()).not.toContain(runB.id);
    expect(workerB.output()).toContain(runB.id);
    expect(workerB.output()).not.toContain(runA.id);
    // Each lists its own.
    expect((await a.runs.listRuns({ limit: 10 })).map((run) => run.id)).toEqual(
      [runA.id],
    );
    expect((await b.runs.listRuns({ limit: 10 })).map((run) => run.id)).toEqual(
      [runB.id],
    );
    const deliveriesOf = (prefix: string) =>
      createDeliveryLog(fixture.redisClient, {
        keys: createStores(fixture.redisClient, { prefix }).keys,
      }).listDeliveries({ limit: 10 });
    expect(
      (await deliveriesOf('tenant-a')).map((item) => item.deliveryId),
    ).toEqual(['d-1']);
    expect(await deliveriesOf('tenant-b')).toEqual([]);
    // Every key is under a prefix: none under BullMQ's default `bull:`.
    const keys = await fixture.redisClient.keys('*');
    const outside = keys.filter(
      (key) => !/^(tenant-a|tenant-b|kiln):/.test(key),
    );
    expect(outside).toEqual([]);
    expect(
      keys.some((key) => key.startsWith('tenant-a:bull:kiln-steps:')),
    ).toBe(true);
    expect(
      keys.some((key) => key.startsWith('tenant-b:bull:kiln-steps:')),
    ).toBe(true);
  }, 300_000);
});
