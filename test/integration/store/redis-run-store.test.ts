import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunNodeState } from '../../../src/model/run.js';
import { nodeTransition } from '../../../src/orchestrator/node-machine.js';
import { createStores, type RunStore } from '../../../src/store/index.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import { makeNode, makeRun } from './fixtures.js';

const at = '2026-11-24T10:05:00.000Z';

function decide(
  from: RunNodeState,
  event: Parameters<typeof nodeTransition>[1],
): RunNodeState {
  const result = nodeTransition(from, event, { runId: 'r1', now: at });
  if (!result.applied) throw new Error(result.why);
  return result.node;
}

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

  function stores() {
    return createStores(redis, { prefix: `t-${randomUUID()}` });
  }
  const init = { waits: {}, queued: [], skipped: [] };

  it('allocates run counters per repository', async () => {
    const { runs } = stores();

    const counters = await Promise.all(
      Array.from({ length: 20 }, () => runs.allocateRunCounter('acme/a')),
    );

    expect(new Set(counters).size).toBe(20);
    expect(Math.max(...counters)).toBe(20);
  });

  it('creates a run once and reads it back, whole or header only', async () => {
    const { runs } = stores();
    const record = makeRun({
      id: 'r1',
      trigger: { event: 'push', deliveryId: 'd-1', fork: false },
      parameters: { epochs: 3 },
    });

    const first = await runs.createRun(record, init);
    const second = await runs.createRun({ ...record, name: 'other' }, init);

    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(await runs.getRun('r1')).toEqual(record);
    expect(await runs.getRunHeader('r1')).toEqual({ ...record, nodes: [] });
    expect(await runs.getNodes('r1', ['train', 'nope'])).toEqual([
      record.nodes[1],
      null,
    ]);
    expect(await runs.getRun('nope')).toBeNull();
  });

  it('applies a node change only from the state it was computed from', async () => {
    const { runs } = stores();
    const record = makeRun({
      id: 'r1',
      status: 'queued',
      nodes: [makeNode('prepare', 0, { status: 'queued', generation: 1 })],
    });
    await runs.createRun(record, init);
    const queued = record.nodes[0] as RunNodeState;
    const started = decide(queued, {
      type: 'claim',
      worker: 'w1',
      generation: 1,
      phase: 'running',
    });

    const applied = await runs.applyNode({
      runId: 'r1',
      at,
      from: queued,
      to: started,
      start: { from: ['queued'], to: 'running' },
    });
    const again = await runs.applyNode({
      runId: 'r1',
      at,
      from: queued,
      to: started,
    });

    expect(applied).toMatchObject({ code: 'ok', status: 'running', left: 1 });
    expect(again).toEqual({ code: 'moved', node: started, status: 'running' });
    expect((await runs.getRun('r1'))?.nodes[0]).toEqual(started);
  });

  it('refuses a claim when the run is not in a claimable status', async () => {
    const { runs } = stores();
    const record = makeRun({
      id: 'r1',
      status: 'waiting-approval',
      nodes: [makeNode('prepare', 0, { status: 'queued', generation: 1 })],
    });
    await runs.createRun(record, init);
    const queued = record.nodes[0] as RunNodeState;

    const result = await runs.applyNode({
      runId: 'r1',
      at,
      from: queued,
      to: decide(queued, {
        type: 'claim',
        worker: 'w1',
        generation: 1,
        phase: 'running',
      }),
      runIn: ['queued', 'running'],
    });

    expect(result).toEqual({
      code: 'run',
      node: queued,
      status: 'waiting-approval',
    });
    expect(
      await runs.applyNode({ runId: 'nope', at, from: queued, to: queued }),
    ).toEqual({ code: 'missing' });
  });

  it('counts successors down: one upstream releases at once, several wait for all', async () => {
    const { runs } = stores();
    const nodes = [
      makeNode('a', 0, {
        status: 'started',
        phase: 'running',
        attempt: 1,
        generation: 1,
      }),
      makeNode('b', 1, {
        status: 'started',
        phase: 'running',
        attempt: 1,
        generation: 1,
      }),
      makeNode('after-a', 2),
      makeNode('join', 3),
    ];
    await runs.createRun(makeRun({ id: 'r1', status: 'running', nodes }), {
      ...init,
      waits: { join: 2 },
    });
    const release = (name: string, waits: number) => ({
      name,
      waits,
      queued: decide(makeNode(name, name === 'join' ? 3 : 2), {
        type: 'ready',
      }),
    });
    const finish = (node: RunNodeState) =>
      decide(node, {
        type: 'finished',
        attempt: 1,
        outcome: 'complete',
        message: 'exited 0',
      });

    const first = await runs.applyNode({
      runId: 'r1',
      at,
      from: nodes[0] as RunNodeState,
      to: finish(nodes[0] as RunNodeState),
      release: [release('after-a', 1), release('join', 2)],
    });
    const second = await runs.applyNode({
      runId: 'r1',
      at,
      from: nodes[1] as RunNodeState,
      to: finish(nodes[1] as RunNodeState),
      release: [release('join', 2)],
    });

    expect(first).toMatchObject({ code: 'ok', queued: ['after-a'], left: 3 });
    expect(second).toMatchObject({ code: 'ok', queued: ['join'], left: 2 });
  });

  it('two workers finishing the two sides of a join at once queue it once', async () => {
    for (let round = 0; round < 20; round += 1) {
      const { runs } = stores();
      const nodes = [
        makeNode('a', 0, {
          status: 'started',
          phase: 'running',
          attempt: 1,
          generation: 1,
        }),
        makeNode('b', 1, {
          status: 'started',
          phase: 'running',
          attempt: 1,
          generation: 1,
        }),
        makeNode('join', 2),
      ];
      await runs.createRun(makeRun({ id: 'r1', status: 'running', nodes }), {
        ...init,
        waits: { join: 2 },
      });
      const release = [
        {
          name: 'join',
          waits: 2,
          queued: decide(makeNode('join', 2), { type: 'ready' }),
        },
      ];

      const results = await Promise.all(
        [0, 1].map((index) => {
          const from = nodes[index] as RunNodeState;
          return runs.applyNode({
            runId: 'r1',
            at,
            from,
            to: decide(from, {
              type: 'finished',
              attempt: 1,
              outcome: 'complete',
              message: 'exited 0',
            }),
            release,
          });
        }),
      );

      const queued = results.flatMap((result) =>
        result.code === 'ok' ? result.queued : [],
      );
      expect(queued).toEqual(['join']);
    }
  });

  it('skips blocked nodes that are still pending and counts them as settled', async () => {
    const { runs } = stores();
    const nodes = [
      makeNode('a', 0, {
        status: 'started',
        phase: 'running',
        attempt: 1,
        generation: 1,
      }),
      makeNode('b', 1),
      makeNode('c', 2, { status: 'complete', attempt: 1, generation: 1 }),
    ];
    await runs.createRun(makeRun({ id: 'r1', status: 'running', nodes }), init);
    const from = nodes[0] as RunNodeState;

    const result = await runs.applyNode({
      runId: 'r1',
      at,
      from,
      to: decide(from, {
        type: 'finished',
        attempt: 1,
        outcome: 'stopped',
        message: 'stopped',
      }),
      block: ['b', 'c'].map((name, index) =>
        decide(makeNode(name, index + 1), {
          type: 'blocked',
          reason: 'upstream node "a" was stopped',
        }),
      ),
      tally: 'stopped',
    });

    expect(result).toMatchObject({
      code: 'ok',
      skipped: ['b'],
      left: 0,
      stopped: 1,
    });
    expect((await runs.getRun('r1'))?.nodes.map((node) => node.status)).toEqual(
      ['stopped', 'skipped', 'complete'],
    );
  });

  it('applies a run change with all its nodes, or nothing when one moved', async () => {
    const { runs } = stores();
    const nodes = [
      makeNode('a', 0, {
        status: 'started',
        phase: 'running',
        attempt: 1,
        generation: 1,
        executionId: 'r1-0-1',
      }),
      makeNode('b', 1, { status: 'queued', generation: 1 }),
    ];
    await runs.createRun(makeRun({ id: 'r1', status: 'running', nodes }), init);
    const stop = (node: RunNodeState) =>
      decide(node, { type: 'stop', reason: 'cancelled by alice' });
    const change = {
      runId: 'r1',
      at,
      from: 'running' as const,
      run: {
        status: 'cancelled' as const,
        reason: 'cancelled by alice',
        endedAt: at,
      },
      nodes: nodes.map((node) => ({
        from: node,
        to: stop(node),
        terminal: true,
        tally: 'stopped' as const,
      })),
    };

    const stale = await runs.applyRun({
      ...change,
      nodes: [{ ...change.nodes[0]!, from: { ...nodes[0]!, attempt: 9 } }],
    });
    const applied = await runs.applyRun(change);
    const late = await runs.applyRun(change);

    expect(stale).toEqual({ code: 'moved', status: 'running' });
    expect(applied).toEqual({ code: 'ok', status: 'cancelled', left: 0 });
    expect(late).toEqual({ code: 'moved', status: 'cancelled' });
    const run = await runs.getRun('r1');
    expect(run).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled by alice',
    });
    expect(run?.nodes.map((node) => node.status)).toEqual([
      'stopped',
      'stopped',
    ]);
  });

  it('appends every change to the run stream and status changes to the global one', async () => {
    const { runs } = stores();
    const queued = makeNode('a', 0, { status: 'queued', generation: 1 });
    await runs.createRun(
      makeRun({ id: 'r1', status: 'queued', nodes: [queued] }),
      { ...init, queued: ['a'] },
    );
    const started = decide(queued, {
      type: 'claim',
      worker: 'w1',
      generation: 1,
      phase: 'running',
    });
    await runs.applyNode({
      runId: 'r1',
      at,
      from: queued,
      to: started,
      start: { from: ['queued'], to: 'running' },
    });

    const events = (await runs.readRunEvents('r1')).map(({ event }) => event);
    const global = (await runs.readEvents()).map(({ event }) => event);
    const first = await runs.readRunEvents('r1', { count: 1 });
    const rest = await runs.readRunEvents('r1', { after: first[0]?.id });

    expect(events.map((event) => `${event.kind}:${event.status}`)).toEqual([
      'run:queued',
      'nodes:queued',
      'node:started',
      'run:running',
    ]);
    expect(global).toEqual([
      expect.objectContaining({
        kind: 'run',
        runId: 'r1',
        status: 'queued',
        repository: 'acme/models',
      }),
      expect.objectContaining({ kind: 'run', runId: 'r1', status: 'running' }),
    ]);
    expect(rest).toHaveLength(3);
    expect(await runs.lastEventId()).not.toBe('0-0');
  });

  it('lists runs newest first with combined filters', async () => {
    const { runs } = stores();
    await runs.createRun(makeRun({ id: 'r1', status: 'complete' }), init);
    await runs.createRun(
      makeRun({ id: 'r2', status: 'running', ref: 'refs/heads/dev' }),
      init,
    );
    await runs.createRun(
      makeRun({ id: 'r3', status: 'running', repository: 'acme/other' }),
      init,
    );

    const ids = async (options: Parameters<RunStore['listRuns']>[0]) =>
      (await runs.listRuns(options)).map((run) => run.id);

    expect(await ids({ limit: 10 })).toEqual(['r3', 'r2', 'r1']);
    expect(await ids({ limit: 10, status: 'running' })).toEqual(['r3', 'r2']);
    expect(
      await ids({ limit: 10, status: 'running', repository: 'acme/models' }),
    ).toEqual(['r2']);
    expect(await ids({ limit: 10, ref: 'refs/heads/main' })).toEqual([
      'r3',
      'r1',
    ]);
    expect(await ids({ limit: 1, offset: 1 })).toEqual(['r2']);
  });

  it('lists a branch with the pull requests from it, and commits by a short SHA', async () => {
    const { runs } = stores();
    await runs.createRun(
      makeRun({ id: 'push', ref: 'refs/heads/tune-c', commit: 'c'.repeat(40) }),
      init,
    );
    await runs.createRun(
      makeRun({
        id: 'pr',
        ref: 'refs/pull/1/head',
        commit: `abcdef1${'2'.repeat(33)}`,
        trigger: { event: 'pull_request', pullRequest: 1, headRef: 'tune-c' },
      }),
      init,
    );
    await runs.createRun(
      makeRun({ id: 'near', commit: `abcdef1${'3'.repeat(33)}` }),
      init,
    );

    const ids = async (options: Parameters<RunStore['listRuns']>[0]) =>
      (await runs.listRuns(options)).map((run) => run.id);
    // (Runs made in the same millisecond may come in either order.)
    expect((await ids({ limit: 10, branch: 'tune-c' })).sort()).toEqual([
      'pr',
      'push',
    ]);
    expect((await ids({ limit: 10, commit: 'abcdef1' })).sort()).toEqual([
      'near',
      'pr',
    ]);
    // Past seven characters the prefix still decides.
    expect(await ids({ limit: 10, commit: 'abcdef1222' })).toEqual(['pr']);
    expect(await ids({ limit: 10, commit: 'c'.repeat(40) })).toEqual(['push']);
  });

  it('finds the active runs of a pipeline on a ref, and forgets them once they end', async () => {
    const { runs } = stores();
    const nodes = [makeNode('a', 0, { status: 'queued', generation: 1 })];
    await runs.createRun(makeRun({ id: 'r1', status: 'queued', nodes }), init);
    await runs.createRun(makeRun({ id: 'r2', status: 'complete' }), init);
    const before = (
      await runs.activeRunsFor(
        'acme/models',
        'refs/heads/main',
        'train-evaluate',
      )
    ).map((run) => run.id);

    await runs.applyRun({
      runId: 'r1',
      at,
      from: 'queued',
      run: { status: 'cancelled', reason: 'x', endedAt: at },
      nodes: [
        {
          from: nodes[0]!,
          to: decide(nodes[0]!, { type: 'stop', reason: 'x' }),
          terminal: true,
        },
      ],
    });

    expect(before).toEqual(['r1']);
    expect(
      await runs.activeRunsFor(
        'acme/models',
        'refs/heads/main',
        'train-evaluate',
      ),
    ).toEqual([]);
    expect(
      (await runs.listRuns({ limit: 10, status: 'cancelled' })).map(
        (run) => run.id,
      ),
    ).toEqual(['r1']);
  });

  it('keeps a node change O(1): its commands do not grow with the run', async () => {
    const costOf = async (size: number) => {
      const { runs } = stores();
      const nodes = Array.from({ length: size }, (_, index) =>
        makeNode(`n${index}`, index, { status: 'queued', generation: 1 }),
      );
      await runs.createRun(
        makeRun({ id: 'r1', status: 'running', nodes }),
        init,
      );
      const from = nodes[size - 1] as RunNodeState;
      const before = await commandCount(redis);
      await runs.applyNode({
        runId: 'r1',
        at,
        from,
        to: decide(from, {
          type: 'claim',
          worker: 'w',
          generation: 1,
          phase: 'pulling',
        }),
      });
      return (await commandCount(redis)) - before;
    };

    const small = await costOf(10);
    const large = await costOf(2000);

    expect(large).toBe(small);
  });

  it('reads a node whose record is damaged as missing, not a crash', async () => {
    const { runs, keys } = stores();
    await runs.createRun(makeRun({ id: 'r1' }), init);
    await redis.hset(keys.run('r1'), 'n:train', '{not json');

    const run = await runs.getRun('r1');

    expect(run?.nodes.map((node) => node.name)).toEqual(['prepare']);
  });
});

async function commandCount(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/calls=(\d+)/g)) total += Number(match[1]);
  return total;
}
