/**
 * SIGTERM to a worker: a step that ends within the grace period finishes
 * and the worker exits 0; a longer one is handed back (the worker exits 0
 * without waiting) and another worker completes it once (reliability plan
 * §5, F23).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import {
  containersOf,
  startServiceFixture,
  waitFor,
  waitForRun,
  watchContainerCount,
  workerOfRunningContainer,
  type ServiceFixture,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);

function sleepingStep(name: string, seconds: number): string {
  return `- step:
    name: ${name}
    image: ${BUSYBOX_IMAGE}
    command:
      - sleep ${seconds}
      - 'echo ''{"slept": ${seconds}}'''
      - echo "${name}-done"
`;
}

describe.skipIf(!ok)('graceful worker shutdown', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('finishes a short step, then exits 0', async () => {
    const worker = await fixture.spawnWorker({
      id: 'grace-short',
      runtime: 'docker',
    });
    const created = await fixture.startRun(sleepingStep('short', 4), 'short');
    await waitFor('the step container to run', 120_000, () =>
      Boolean(workerOfRunningContainer(created.id)),
    );
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    // No other worker exists: the stored end is this worker's own.
    const run = await fixture.getRun(created.id);
    expect(run.status).toBe('complete');
    const [execution] = await fixture.executionsOf(run);
    expect(execution?.status).toBe('complete');
    expect(await fixture.logText(execution?.id ?? '')).toContain('short-done');
    expect(containersOf(created.id)).toEqual([]);
  }, 240_000);

  it('hands a long step back and another worker completes it once', async () => {
    const first = await fixture.spawnWorker({
      id: 'grace-long-1',
      runtime: 'docker',
      shutdownGraceMs: 1000,
    });
    const created = await fixture.startRun(sleepingStep('long', 10), 'long');
    const watch = watchContainerCount(created.id);
    await waitFor('the step container to run', 120_000, () =>
      Boolean(workerOfRunningContainer(created.id)),
    );
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect((await fixture.getRun(created.id)).status).toBe('running');

    await fixture.spawnWorker({ id: 'grace-long-2', runtime: 'docker' });
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
    expect(await watch.stop()).toBeLessThanOrEqual(1);
    expect(run.status).toBe('complete');
    // The hand-back is a new attempt: the first is closed as an
    // infrastructure error (its worker left), the second completes.
    const executions = await fixture.executionsOf(run);
    expect(executions.map((item) => [item.attempt, item.status])).toEqual([
      [2, 'complete'],
      [1, 'error'],
    ]);
    expect(executions[1]?.endReason?.kind).toBe('infra-error');
    const log = await fixture.logText(executions[0]?.id ?? '');
    expect(log.split('\n').filter((line) => line === 'long-done')).toEqual([
      'long-done',
    ]);
    expect(containersOf(created.id)).toEqual([]);
  }, 300_000);
});
