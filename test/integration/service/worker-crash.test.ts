/**
 * A worker SIGKILLed while its step runs: another worker takes the step up
 * once the job's lock lapses, removes the orphan container before starting
 * the new one, and the step completes exactly once (reliability plan F1,
 * invariants I1–I3). Losing the worker a second time ends the step in
 * error with "worker lost twice" instead of trying it forever.
 */
import { execFileSync } from 'node:child_process';
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
  type WorkerProcess,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);

const CONFIG = `- step:
    name: slow
    image: ${BUSYBOX_IMAGE}
    command:
      - echo "begin"
      - sleep 8
      - 'echo ''{"slept": 8}'''
      - echo "finished-once"
`;

describe.skipIf(!ok)('a worker killed mid-step', () => {
  let fixture: ServiceFixture;
  /** Every worker started here: one test's survivors serve the next. */
  const running: WorkerProcess[] = [];
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('completes the step exactly once on another worker, never two containers at once', async () => {
    const workers: WorkerProcess[] = [
      await fixture.spawnWorker({ id: 'crash-w1', runtime: 'docker' }),
      await fixture.spawnWorker({ id: 'crash-w2', runtime: 'docker' }),
    ];
    running.push(...workers);
    const created = await fixture.startRun(CONFIG, 'slow');
    const watch = watchContainerCount(created.id);
    let holder: string | undefined;
    expect(created.status).toBe('queued');
    await waitFor('the step container to run', 120_000, () => {
      holder = workerOfRunningContainer(created.id);
      return holder !== undefined;
    }).catch(async (error: unknown) => {
      throw new Error(
        `${String(error)}\n${await fixture.describe(created.id)}`,
      );
    });
    const victim = workers.find((worker) => worker.id === holder);
    expect(victim).toBeDefined();
    victim?.child.kill('SIGKILL');
    expect(await victim?.exited).toBeNull();

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'complete' || item.status === 'error',
      180_000,
    );
    const maxContainers = await watch.stop();
    expect(run.status).toBe('complete');
    expect(maxContainers).toBeLessThanOrEqual(1);
    // The replacement ran on the survivor, and no container is left over.
    expect(containersOf(created.id)).toEqual([]);
    const [node] = run.nodes;
    expect(node?.status).toBe('complete');
    // The takeover is a new attempt with its own execution and log; the
    // lost one is closed as an infrastructure error, never as the step's.
    expect(node?.attempt).toBe(2);

    const executions = await fixture.executionsOf(run);
    expect(executions.map((item) => [item.attempt, item.status])).toEqual([
      [2, 'complete'],
      [1, 'error'],
    ]);
    const [replacement, lost] = executions;
    expect(replacement?.id).toBe(node?.executionId);
    expect(replacement?.metrics).toMatchObject({ slept: 8 });
    expect(lost?.endReason).toEqual({
      kind: 'infra-error',
      message: `worker ${holder} was lost; attempt 2 takes over`,
    });
    const log = await fixture.logText(replacement?.id ?? '');
    expect(log.split('\n').filter((line) => line === 'finished-once')).toEqual([
      'finished-once',
    ]);
    // The lost attempt's output stays in its own log.
    const lostLog = await fixture.logText(lost?.id ?? '');
    expect(lostLog).not.toContain('finished-once');
  }, 300_000);

  it('ends the step in error, "worker lost twice", when its second worker is lost too', async () => {
    // Three: after two are killed one is left to notice the second stall.
    running.push(
      await fixture.spawnWorker({ id: 'twice-w1', runtime: 'docker' }),
      await fixture.spawnWorker({ id: 'twice-w2', runtime: 'docker' }),
      await fixture.spawnWorker({ id: 'twice-w3', runtime: 'docker' }),
    );
    const created = await fixture.startRun(
      CONFIG.replace('sleep 8', 'sleep 120'),
      'slow',
    );
    const killed: string[] = [];
    for (const round of [1, 2]) {
      let holder: string | undefined;
      await waitFor(`attempt ${round}'s container to run`, 120_000, () => {
        holder = workerOfRunningContainer(created.id);
        return holder !== undefined && !killed.includes(holder);
      });
      const victim = running.find((worker) => worker.id === holder);
      expect(victim, `worker ${holder}`).toBeDefined();
      victim?.child.kill('SIGKILL');
      expect(await victim?.exited).toBeNull();
      killed.push(holder ?? '');
      // Its container lives on (the engine is not the worker): stop it, as
      // the host going down with the worker would.
      for (const container of containersOf(created.id)) {
        execFileSync('docker', ['rm', '-f', container]);
      }
    }

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'complete' || item.status === 'error',
      180_000,
    );
    expect(run.status).toBe('error');
    const [node] = run.nodes;
    expect(node?.status).toBe('error');
    expect(node?.message).toMatch(/worker lost twice while running this step/);
    const executions = await fixture.executionsOf(run);
    expect(executions.map((item) => [item.attempt, item.status])).toEqual([
      [2, 'error'],
      [1, 'error'],
    ]);
    // Live workers were left, and none started the step a third time.
    expect(containersOf(created.id)).toEqual([]);
  }, 300_000);
});
