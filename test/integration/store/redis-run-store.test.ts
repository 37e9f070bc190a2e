import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStores,
  type ListRunsOptions,
} from '../../../src/store/index.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import { makeRun } from './fixtures.js';

describe.skipIf(!haveRedis())('redis run store', () => {
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

  function runStore() {
    return createStores(redis, { prefix: `t-${randomUUID()}` }).runs;
  }

  it('allocates run counters per repository', async () => {
    const runs = runStore();

    const counters = await Promise.all(
      Array.from({ length: 20 }, () => runs.allocateRunCounter('acme/a')),
    );

    expect(new Set(counters).size).toBe(20);
    expect(Math.max(...counters)).toBe(20);
  });

  it('creates a run once and reads it back', async () => {
    const runs = runStore();
    const record = makeRun({
      id: 'r1',
      trigger: { event: 'push', deliveryId: 'd-1', fork: false },
      parameters: { epochs: 3 },
    });

    const first = await runs.createRun(record);
    const second = await runs.createRun({ ...record, name: 'other' });

    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(await runs.getRun('r1')).toEqual(record);
    expect(await runs.getRun('nope')).toBeNull();
  });

  it('updates a run and returns it as stored', async () => {
    const runs = runStore();
    await runs.createRun(makeRun({ id: 'r1', reason: 'old' }));

    const updated = await runs.updateRun('r1', {
      status: 'running',
      startedAt: '2026-11-24T10:01:00.000Z',
      reason: undefined,
      name: 'renamed',
    });

    expect(updated).toMatchObject({
      status: 'running',
      startedAt: '2026-11-24T10:01:00.000Z',
      name: 'train-evaluate',
    });
    expect(updated.reason).toBeUndefined();
    expect(await runs.getRun('r1')).toEqual(updated);
    await expect(
      runs.updateRun('nope', { status: 'error' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists runs newest first with combined filters', async () => {
    const runs = runStore();
    const records = [
      makeRun({ id: 'r1', repository: 'acme/a', ref: 'refs/heads/main' }),
      makeRun({ id: 'r2', repository: 'acme/b', ref: 'refs/heads/main' }),
      makeRun({
        id: 'r3',
        repository: 'acme/a',
        ref: 'refs/heads/dev',
        commit: 'c'.repeat(40),
      }),
      makeRun({ id: 'r4', repository: 'acme/a', ref: 'refs/heads/main' }),
    ];
    for (const record of records) await runs.createRun(record);
    await runs.updateRun('r1', { status: 'complete' });
    await runs.updateRun('r4', { status: 'running' });
    const ids = async (options: ListRunsOptions) =>
      (await runs.listRuns(options)).map((run) => run.id);

    expect(await ids({ limit: 10 })).toEqual(['r4', 'r3', 'r2', 'r1']);
    expect(await ids({ limit: 2, offset: 2 })).toEqual(['r2', 'r1']);
    expect(await ids({ repository: 'acme/a', limit: 10 })).toEqual([
      'r4',
      'r3',
      'r1',
    ]);
    expect(
      await ids({ repository: 'acme/a', ref: 'refs/heads/main', limit: 10 }),
    ).toEqual(['r4', 'r1']);
    expect(await ids({ status: 'complete', limit: 10 })).toEqual(['r1']);
    expect(await ids({ status: 'created', limit: 10 })).toEqual(['r3', 'r2']);
    expect(await ids({ commit: 'c'.repeat(40), limit: 10 })).toEqual(['r3']);
    expect(
      await ids({ repository: 'acme/b', status: 'running', limit: 10 }),
    ).toEqual([]);
  });

  it('finds the active runs of a pipeline on a ref', async () => {
    const runs = runStore();
    for (const id of ['r1', 'r2', 'r3']) await runs.createRun(makeRun({ id }));
    await runs.createRun(makeRun({ id: 'other', name: 'sweep' }));
    await runs.updateRun('r2', { status: 'cancelled', supersededBy: 'r3' });

    const active = await runs.activeRunsFor(
      'acme/models',
      'refs/heads/main',
      'train-evaluate',
    );

    expect(active.map((run) => run.id)).toEqual(['r3', 'r1']);
  });

  it('loses no update when 20 nodes are updated concurrently', async () => {
    const runs = runStore();
    const nodes = Array.from({ length: 20 }, (_, index) => ({
      name: `node-${index}`,
      step: 'train',
      status: 'pending' as const,
      attempt: 1,
    }));
    await runs.createRun(makeRun({ id: 'r1', nodes }));

    await Promise.all(
      nodes.map((node, index) =>
        runs.updateRunNode('r1', node.name, {
          status: 'complete',
          executionId: `e-${index}`,
          message: `done ✓ ${index}`,
        }),
      ),
    );

    const run = await runs.getRun('r1');
    expect(run?.nodes).toEqual(
      nodes.map((node, index) => ({
        ...node,
        status: 'complete',
        executionId: `e-${index}`,
        message: `done ✓ ${index}`,
      })),
    );
  });

  it('fences node updates by attempt and removes undefined fields', async () => {
    const runs = runStore();
    await runs.createRun(makeRun({ id: 'r1' }));

    const newer = await runs.updateRunNode(
      'r1',
      'train',
      { status: 'started', executionId: 'e-2', message: 'retrying \ud800' },
      { attempt: 2 },
    );
    const stale = await runs.updateRunNode(
      'r1',
      'train',
      { status: 'error', executionId: 'e-1' },
      { attempt: 1 },
    );
    const cleared = await runs.updateRunNode('r1', 'train', {
      message: undefined,
    });

    expect(newer.nodes[1]).toEqual({
      name: 'train',
      step: 'train',
      status: 'started',
      executionId: 'e-2',
      message: 'retrying \ufffd',
      attempt: 2,
    });
    expect(stale).toEqual(newer);
    expect(cleared.nodes[1]?.message).toBeUndefined();
    expect(cleared.nodes[0]).toEqual(newer.nodes[0]);
    await expect(
      runs.updateRunNode('r1', 'nope', { status: 'error' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('treats a damaged nodes field as a missing node, not a crash', async () => {
    const prefix = `t-${randomUUID()}`;
    const runs = createStores(redis, { prefix }).runs;
    await runs.createRun(makeRun({ id: 'r1' }));
    await redis.hset(`${prefix}:store:run:r1`, 'nodes', '[{broken');

    const read = await runs.getRun('r1');

    expect(read?.nodes).toEqual([]);
    await expect(
      runs.updateRunNode('r1', 'train', { status: 'error' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
