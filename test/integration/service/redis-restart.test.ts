/**
 * Redis restarted (AOF on) while the middle node of a 3-node chain runs:
 * the workers wait for it to come back, the pipeline finishes and nothing
 * is lost (reliability plan F6, invariants I1, I4).
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedis } from '../../helpers/services.js';
import { pipelineConfig } from './pipeline-configs.js';
import {
  countLines,
  startServiceFixture,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

describe.skipIf(!haveRedis())('Redis restarted mid-pipeline', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('finishes the chain with one complete execution per node, logs and metrics kept', async () => {
    const marker = join(fixture.hostDir, 'marker');
    const config = pipelineConfig(
      {
        name: 'chain',
        nodes: ['first', 'second', 'third'],
        edges: [
          ['first', 'second', 'v'],
          ['second', 'third', 'v'],
        ],
      },
      [
        { name: 'first' },
        { name: 'second', before: ['echo second-begins', 'sleep 5'] },
        { name: 'third' },
      ],
      marker,
    );
    await fixture.spawnWorker({ id: 'restart-w1', runtime: 'local' });
    await fixture.spawnWorker({ id: 'restart-w2', runtime: 'local' });
    const created = await fixture.startRun(config, 'chain');
    expect(created.status).toBe('queued');
    await waitForRun(
      fixture,
      created.id,
      (run) => run.nodes[1]?.status === 'started',
    );
    await fixture.redis.stop();
    await sleep(1500);
    await fixture.redis.restart();

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => !['created', 'queued', 'running'].includes(item.status),
      180_000,
    ).catch(async (error: unknown) => {
      throw new Error(
        `${String(error)}\n${await fixture.describe(created.id)}`,
      );
    });
    expect(run.status).toBe('complete');
    expect(run.nodes.map((node) => node.status)).toEqual([
      'complete',
      'complete',
      'complete',
    ]);
    const executions = await fixture.executionsOf(run);
    expect(executions.map((execution) => execution.node).sort()).toEqual([
      'first',
      'second',
      'third',
    ]);
    for (const execution of executions) {
      expect(execution.status).toBe('complete');
      expect(execution.metrics).toMatchObject({ v: 1 });
      const metrics = await fixture.deps.executions.readMetrics(execution.id);
      expect(metrics.length).toBeGreaterThanOrEqual(1);
    }
    const second = executions.find((execution) => execution.node === 'second');
    expect(await fixture.logText(second?.id ?? '')).toContain('second-begins');
    // first and third ran once; second may have been re-run by a retry, but
    // recorded one complete execution.
    expect(countLines(marker, 'first')).toBe(1);
    expect(countLines(marker, 'third')).toBe(1);
    expect(countLines(marker, 'second')).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
