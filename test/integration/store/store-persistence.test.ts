import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStores } from '../../../src/store/index.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import { makeExecution, makeRun } from './fixtures.js';

describe.skipIf(!haveRedis())('store persistence', () => {
  let server: TestRedis;

  beforeAll(async () => {
    server = await startTestRedis();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('keeps records, logs and metrics across a Redis restart (AOF)', async () => {
    const writer = new Redis(server.url);
    // Connection refused while the server restarts is expected.
    writer.on('error', () => undefined);
    const before = createStores(writer);
    await before.executions.createExecution(makeExecution({ id: 'e1' }));
    await before.executions.updateExecution('e1', { status: 'complete' });
    await before.executions.appendLog('e1', [
      {
        seq: 0,
        time: '2026-11-24T10:00:00.000Z',
        stream: 'stdout',
        text: 'hi',
      },
    ]);
    await before.executions.appendMetrics('e1', [
      { time: '2026-11-24T10:00:01.000Z', values: { loss: 0.25 } },
    ]);
    await before.runs.createRun(makeRun({ id: 'r1' }));
    await before.runs.updateRunNode('r1', 'train', { status: 'started' });
    // SIGTERM makes Redis flush the AOF; the restart then replays it. The
    // same client reconnects, and its scripts are gone from Redis' cache.
    await server.stop();
    await server.restart();

    const after = createStores(writer);
    const execution = await after.executions.getExecution('e1');
    const log = await after.executions.readLog('e1');
    const metrics = await after.executions.readMetrics('e1');
    const run = await after.runs.getRun('r1');
    const updated = await after.runs.updateRunNode('r1', 'train', {
      status: 'complete',
    });
    writer.disconnect();

    expect(execution?.status).toBe('complete');
    expect(log.map((line) => line.text)).toEqual(['hi']);
    expect(metrics).toEqual([
      { time: '2026-11-24T10:00:01.000Z', values: { loss: 0.25 } },
    ]);
    expect(run?.nodes[1]?.status).toBe('started');
    expect(updated.nodes[1]?.status).toBe('complete');
  });
});
