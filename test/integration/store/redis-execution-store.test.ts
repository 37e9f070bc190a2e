import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../../../src/model/log-line.js';
import { createStores } from '../../../src/store/index.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import { makeExecution, makeNode, makeRun } from './fixtures.js';

describe.skipIf(!haveRedis())('redis execution store', () => {
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

  const line = (seq: number): LogLine => ({
    seq,
    time: new Date().toISOString(),
    stream: 'stdout',
    text: `line ${seq}`,
  });

  function stores(options: { maxLogLines?: number } = {}) {
    return createStores(redis, { prefix: `t-${randomUUID()}`, ...options });
  }

  it('gives executions sequential counters per repository under concurrency', async () => {
    const { executions } = stores();

    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        executions.createExecution(
          makeExecution({ id: `e${index}`, repository: 'acme/a' }),
        ),
      ),
    );
    await executions.createExecution(
      makeExecution({ id: 'other', repository: 'acme/b' }),
    );

    const counters = await Promise.all(
      Array.from(
        { length: 50 },
        async (_, index) =>
          (await executions.getExecution(`e${index}`))?.counter,
      ),
    );
    expect([...counters].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 50 }, (_, index) => index + 1),
    );
    expect((await executions.getExecution('other'))?.counter).toBe(1);
  });

  it('creates an execution once and reads it back by id and counter', async () => {
    const { executions } = stores();
    const record = makeExecution({
      id: 'e1',
      counter: 1,
      metrics: { x: 0.1 + 0.2 },
    });

    const first = await executions.createExecution(record);
    const second = await executions.createExecution({
      ...record,
      step: 'other',
    });

    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(await executions.getExecution('e1')).toEqual(record);
    expect(await executions.getExecutionByCounter('acme/models', 1)).toEqual(
      record,
    );
    expect(await executions.getExecutionByCounter('acme/models', 2)).toBeNull();
    expect(await executions.getExecution('missing')).toBeNull();
  });

  it('lists executions newest first, by repository, and those of a run through its nodes', async () => {
    const { executions, runs } = stores();
    const records = [
      makeExecution({ id: 'a1', repository: 'acme/a' }),
      makeExecution({ id: 'b1', repository: 'acme/b' }),
      makeExecution({ id: 'r2-0-1', repository: 'acme/a', runId: 'r2' }),
      makeExecution({ id: 'r2-0-2', repository: 'acme/a', runId: 'r2' }),
      makeExecution({ id: 'a3', repository: 'acme/a' }),
    ];
    for (const record of records) await executions.createExecution(record);
    await runs.createRun(
      makeRun({
        id: 'r2',
        repository: 'acme/a',
        nodes: [
          makeNode('train', 0, {
            status: 'complete',
            attempt: 2,
            generation: 1,
            executionId: 'r2-0-2',
          }),
          makeNode('later', 1),
        ],
      }),
      { waits: {}, queued: [], skipped: [] },
    );

    const ids = async (
      options: Parameters<typeof executions.listExecutions>[0],
    ) => (await executions.listExecutions(options)).map((record) => record.id);

    expect(await ids({ limit: 10 })).toEqual([
      'a3',
      'r2-0-2',
      'r2-0-1',
      'b1',
      'a1',
    ]);
    expect(await ids({ limit: 2, offset: 1 })).toEqual(['r2-0-2', 'r2-0-1']);
    expect(await ids({ repository: 'acme/a', limit: 10 })).toEqual([
      'a3',
      'r2-0-2',
      'r2-0-1',
      'a1',
    ]);
    expect(await ids({ runId: 'r2', limit: 10 })).toEqual(['r2-0-2', 'r2-0-1']);
    expect(await ids({ repository: 'acme/none', limit: 10 })).toEqual([]);
  });

  it('caps the log, reads after a seq and ignores re-sent lines', async () => {
    const { executions } = stores({ maxLogLines: 5 });
    const lines: LogLine[] = Array.from({ length: 8 }, (_, seq) => ({
      seq,
      time: `2026-11-24T10:00:0${seq}.000Z`,
      stream: seq % 2 === 0 ? 'stdout' : 'stderr',
      text: `line ${seq} ✓`,
    }));

    const added = await executions.appendOutput('e1', {
      lines: lines.slice(0, 6),
    });
    const resent = await executions.appendOutput('e1', {
      lines: lines.slice(4, 8),
    });
    const all = await executions.readLog('e1');
    const after = await executions.readLog('e1', { afterSeq: 5, limit: 1 });

    expect(added).toBe(6);
    expect(resent).toBe(2);
    // Trimming is approximate (MAXLEN ~): about the newest lines are kept.
    expect(all).toEqual(lines.slice(8 - all.length));
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(after).toEqual([lines[6]]);
    expect(await executions.readLog('unknown')).toEqual([]);
    expect(await executions.readLog('e1', { afterSeq: 1e300 })).toEqual([]);
    expect(await executions.readLog('e1', { afterSeq: -5 })).toEqual(all);
  });

  it('pages a log back from its end and from any line', async () => {
    const { executions } = stores();
    await executions.createExecution(makeExecution({ id: 'e1' }));
    await executions.appendOutput('e1', {
      lines: Array.from({ length: 50 }, (_, seq) => line(seq)),
    });

    const seqs = (lines: LogLine[]) => lines.map((item) => item.seq);
    expect(
      seqs(
        await executions.readLog('e1', {
          beforeSeq: Number.POSITIVE_INFINITY,
          limit: 3,
        }),
      ),
    ).toEqual([47, 48, 49]);
    expect(
      seqs(await executions.readLog('e1', { beforeSeq: 10, limit: 4 })),
    ).toEqual([6, 7, 8, 9]);
    expect(
      seqs(await executions.readLog('e1', { beforeSeq: 2, limit: 10 })),
    ).toEqual([0, 1]);
    expect(await executions.readLog('e1', { beforeSeq: 0 })).toEqual([]);
  });

  it('reads metrics from a position and records who read a datum', async () => {
    const { executions } = stores();
    await executions.createExecution(makeExecution({ id: 'e1' }));
    const event = (loss: number) => ({
      time: new Date().toISOString(),
      values: { loss },
    });
    await executions.appendOutput('e1', { metrics: [event(1), event(0.5)] });
    const first = await executions.readMetricsFrom('e1', 0);
    await executions.appendOutput('e1', { metrics: [event(0.25)] });
    const next = await executions.readMetricsFrom('e1', first.next);

    expect(first.events.map((item) => item.values.loss)).toEqual([1, 0.5]);
    expect(first.next).toBe(2);
    expect(next.next).toBe(3);
    expect(next.events.map((item) => item.values.loss)).toEqual([0.25]);

    await executions.recordConsumers('reader-1', ['d1', 'd1']);
    await executions.recordConsumers('reader-2', ['d1']);
    await executions.recordConsumers('reader-1', ['d1']);
    expect((await executions.listConsumers('d1')).sort()).toEqual([
      'reader-1',
      'reader-2',
    ]);
    expect(await executions.listConsumers('nobody')).toEqual([]);
  });

  it('appends and trims large batches in bounded calls', async () => {
    const { executions } = stores({ maxLogLines: 1200 });
    const lines: LogLine[] = Array.from({ length: 2500 }, (_, seq) => ({
      seq,
      time: '2026-11-24T10:00:00.000Z',
      stream: 'stdout',
      text: `line ${seq}`,
    }));

    const added = await executions.appendOutput('e1', { lines });
    const kept = await executions.readLog('e1', { limit: 10_000 });

    expect(added).toBe(2500);
    expect(kept).toEqual(lines.slice(2500 - kept.length));
    expect(kept.length).toBeGreaterThanOrEqual(1200);
    expect(kept.length).toBeLessThan(1400);
  });

  it('keeps metrics in time order and capped', async () => {
    const { executions } = createStores(redis, {
      prefix: `t-${randomUUID()}`,
      maxMetricsEvents: 3,
    });
    const event = (second: number, loss: number) => ({
      time: `2026-11-24T10:00:0${second}.000Z`,
      values: { epoch: second, loss },
    });

    await executions.appendOutput('e1', {
      metrics: [event(1, 0.9), event(2, 0.5)],
    });
    await executions.appendOutput('e1', {
      metrics: [event(4, 0.2), event(3, 0.3)],
    });

    expect(await executions.readMetrics('e1')).toEqual([
      event(2, 0.5),
      event(3, 0.3),
      event(4, 0.2),
    ]);
  });

  it('moves a datum alias to the newest datum', async () => {
    const { executions } = stores();
    const datum = (id: string, repository = 'acme/a') => ({
      id,
      sha256: id.repeat(8),
      size: 10,
      path: 'model.pkl',
      executionId: `exec-${id}`,
      repository,
      alias: 'model-latest',
      createdAt: '2026-11-24T10:00:00.000Z',
    });

    await executions.registerDatum(datum('d1'));
    const before = await executions.resolveDatum('model-latest', {
      repository: 'acme/a',
    });
    await executions.registerDatum(datum('d2'));
    await executions.registerDatum(datum('d3', 'acme/other'));

    expect(before?.id).toBe('d1');
    expect(
      await executions.resolveDatum('model-latest', { repository: 'acme/a' }),
    ).toEqual(datum('d2'));
    expect(await executions.resolveDatum('d1')).toEqual(datum('d1'));
    expect(await executions.resolveDatum('model-latest')).toBeNull();
  });

  it('reads an execution written by an older version with defaults', async () => {
    const prefix = `t-${randomUUID()}`;
    const { executions } = createStores(redis, { prefix });
    await redis.hset(`${prefix}:store:exec:old`, {
      repository: '"acme/a"',
      status: '"complete"',
      metrics: 'not json',
    });

    const record = await executions.getExecution('old');

    expect(record).toMatchObject({
      id: 'old',
      repository: 'acme/a',
      status: 'complete',
      inputs: [],
      outputs: [],
      metrics: {},
      attempt: 1,
    });
  });

  it('rejects an empty id with a typed error', async () => {
    const { executions } = stores();

    await expect(
      executions.createExecution(makeExecution({ id: '' })),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
