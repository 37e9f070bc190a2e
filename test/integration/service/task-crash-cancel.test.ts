/**
 * A sweep survives what a run survives: a worker SIGKILLed while it holds
 * children loses none of them (another worker takes each one over and
 * every child completes), and a cancel stops every child at once —
 * running ones told to stop, the rest never started — leaving no
 * container behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import { cancelRun } from '../../../src/control/cancel-run.js';
import {
  containersOf,
  startServiceFixture,
  waitFor,
  waitForRun,
  type ServiceFixture,
  type WorkerProcess,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);

function sweep(children: number, seconds: number): string {
  return `
- step:
    name: work
    image: ${BUSYBOX_IMAGE}
    command: "sleep ${seconds} && echo done {parameter-value:seed}"
    parameters: [{name: seed, type: integer, default: 0}]
- task:
    name: sweep
    step: work
    maximum-queued-executions: 4
    parameters:
      - {name: seed, style: linear, rules: {start: 1, end: ${children}, step: 1}}
`;
}

describe.skipIf(!ok)('a sweep under a worker crash and a cancel', () => {
  let fixture: ServiceFixture;
  let workers: WorkerProcess[];
  beforeAll(async () => {
    fixture = await startServiceFixture();
    workers = [
      await fixture.spawnWorker({
        id: 'sweep-w1',
        runtime: 'docker',
        concurrency: 2,
      }),
      await fixture.spawnWorker({
        id: 'sweep-w2',
        runtime: 'docker',
        concurrency: 2,
      }),
    ];
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('cancels every child: running ones stopped, the rest skipped, no container left', async () => {
    const created = await fixture.startRun(sweep(12, 60), 'sweep');
    await waitFor('four children running', 120_000, async () => {
      const run = await fixture.getRun(created.id);
      const children = run.nodes.filter((node) =>
        node.name.startsWith('sweep#'),
      );
      return children.filter((node) => node.phase === 'running').length === 4;
    }).catch(async (error: unknown) => {
      throw new Error(
        `${String(error)}\n${await fixture.describe(created.id)}`,
      );
    });

    await cancelRun(fixture.deps, {
      runId: created.id,
      reason: 'cancelled by alice',
    });

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'cancelled',
    );
    const children = run.nodes.filter((node) => node.name.startsWith('sweep#'));
    expect(children, JSON.stringify(run.nodes)).toHaveLength(12);
    expect(children.filter((node) => node.status === 'stopped')).toHaveLength(
      4,
    );
    expect(children.filter((node) => node.status === 'skipped')).toHaveLength(
      8,
    );
    await waitFor(
      'the containers to go',
      60_000,
      () => containersOf(created.id).length === 0,
    );
    const executions = await fixture.executionsOf(run);
    expect(executions.map((execution) => execution.status)).toEqual([
      'stopped',
      'stopped',
      'stopped',
      'stopped',
    ]);
  }, 300_000);

  it('loses no child when a worker holding some is killed', async () => {
    const created = await fixture.startRun(sweep(8, 3), 'sweep');
    await waitFor('children running on both workers', 120_000, async () => {
      const run = await fixture.getRun(created.id);
      const holders = new Set(
        run.nodes
          .filter((node) => node.phase === 'running' && node.worker)
          .map((node) => node.worker),
      );
      return holders.size === 2;
    });
    const victim = workers[0] as WorkerProcess;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBeNull();

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => !['created', 'queued', 'running'].includes(item.status),
      240_000,
    );

    expect(run.status, await fixture.describe(run.id)).toBe('complete');
    const children = run.nodes.filter((node) => node.name.startsWith('sweep#'));
    expect(children.map((node) => node.status)).toEqual(
      Array(8).fill('complete'),
    );
    // The children the dead worker held were taken over: a second attempt.
    expect(children.some((node) => node.attempt === 2)).toBe(true);
    const executions = await fixture.executionsOf(run);
    const completed = executions.filter(
      (execution) => execution.status === 'complete',
    );
    expect(completed.map((execution) => execution.node).sort()).toEqual(
      children.map((node) => node.name).sort(),
    );
    expect(containersOf(created.id)).toEqual([]);
  }, 300_000);
});
