import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStores } from '../../../src/store/index.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import type { RunNodeState } from '../../../src/model/run.js';
import { nodeTransition } from '../../../src/orchestrator/node-machine.js';
import { makeExecution, makeNode, makeRun } from './fixtures.js';

const at = '2026-11-24T10:00:02.000Z';

function claim(node: RunNodeState): RunNodeState {
  const result = nodeTransition(
    node,
    { type: 'claim', worker: 'w1', generation: 1, phase: 'running' },
    { runId: 'r1', now: at },
  );
  if (!result.applied) throw new Error(result.why);
  return result.node;
}

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
    await before.executions.createExecution(
      makeExecution({ id: 'e1', status: 'complete' }),
    );
    await before.executions.appendOutput('e1', {
      lines: [
        {
          seq: 0,
          time: '2026-11-24T10:00:00.000Z',
          stream: 'stdout',
          text: 'hi',
        },
      ],
      metrics: [{ time: '2026-11-24T10:00:01.000Z', values: { loss: 0.25 } }],
    });
    const queued = makeNode('train', 1, { status: 'queued', generation: 1 });
    await before.runs.createRun(
      makeRun({
        id: 'r1',
        status: 'queued',
        nodes: [makeNode('prepare', 0), queued],
      }),
      { waits: {}, queued: ['train'], skipped: [] },
    );
    const started = claim(queued);
    await before.runs.applyNode({ runId: 'r1', at, from: queued, to: started });
    // SIGTERM makes Redis flush the AOF; the restart then replays it. The
    // same client reconnects, and its scripts are gone from Redis' cache.
    await server.stop();
    await server.restart();

    const after = createStores(writer);
    const execution = await after.executions.getExecution('e1');
    const log = await after.executions.readLog('e1');
    const metrics = await after.executions.readMetrics('e1');
    const run = await after.runs.getRun('r1');
    const updated = await after.runs.applyNode({
      runId: 'r1',
      at,
      from: started,
      to: { ...started, status: 'complete', phase: undefined },
    });
    const events = await after.runs.readRunEvents('r1');
    writer.disconnect();

    expect(execution?.status).toBe('complete');
    expect(log.map((line) => line.text)).toEqual(['hi']);
    expect(metrics).toEqual([
      { time: '2026-11-24T10:00:01.000Z', values: { loss: 0.25 } },
    ]);
    expect(run?.nodes[1]?.status).toBe('started');
    expect(updated.code).toBe('ok');
    expect(events.map(({ event }) => event.status)).toEqual([
      'queued',
      'queued',
      'started',
      'complete',
    ]);
  });
});
