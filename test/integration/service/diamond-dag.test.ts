/**
 * A diamond (a → b, a → c, b + c → d) on two worker processes with
 * concurrency 2 each: b and c finish at about the same time on different
 * processes, and the join node still starts exactly once (invariant I2).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedis } from '../../helpers/services.js';
import { pipelineConfig } from './pipeline-configs.js';
import {
  countLines,
  startServiceFixture,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

describe.skipIf(!haveRedis())('a diamond DAG on 2 workers × 2', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('runs the join node once, in every one of several runs', async () => {
    const marker = join(fixture.hostDir, 'marker');
    const config = pipelineConfig(
      {
        name: 'diamond',
        nodes: ['a', 'b', 'c', 'd'],
        edges: [
          ['a', 'b', 'v'],
          ['a', 'c', 'v'],
          ['b', 'd', 'v'],
          ['c', 'd', 'w'],
        ],
      },
      [
        { name: 'a' },
        // Same sleep: b and c end together, so both advance the run at once.
        { name: 'b', before: ['sleep 1'] },
        { name: 'c', before: ['sleep 1'] },
        { name: 'd' },
      ],
      marker,
    );
    await fixture.spawnWorker({
      id: 'dag-w1',
      runtime: 'local',
      concurrency: 2,
    });
    await fixture.spawnWorker({
      id: 'dag-w2',
      runtime: 'local',
      concurrency: 2,
    });
    const rounds = 3;
    const created = [];
    for (let i = 0; i < rounds; i += 1) {
      created.push(await fixture.startRun(config, 'diamond'));
    }
    for (const item of created) {
      const run = await waitForRun(
        fixture,
        item.id,
        (state) => !['created', 'queued', 'running'].includes(state.status),
        180_000,
      );
      expect(run.status).toBe('complete');
      const executions = await fixture.executionsOf(run);
      expect(executions.map((execution) => execution.node).sort()).toEqual([
        'a',
        'b',
        'c',
        'd',
      ]);
      const join = executions.find((execution) => execution.node === 'd');
      expect(join?.parameters).toMatchObject({ v: 1, w: 1 });
      expect(join?.attempt).toBe(1);
    }
    // Every start left one line: rounds × one per node.
    for (const node of ['a', 'b', 'c', 'd']) {
      expect(countLines(marker, node)).toBe(rounds);
    }
  }, 300_000);
});
