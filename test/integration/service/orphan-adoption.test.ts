/**
 * An orphan is adopted, not run again (reliability plan §4.3 and F1,
 * issue 11 item 5: "a deploy step would run twice"): a worker SIGKILLed
 * while its step runs is restarted (same id, same data dir, as after a
 * crash of its host's process); it takes the step over and, finding the
 * lost attempt's container on its engine, follows it — or reads the end
 * it already had — instead of starting the step from scratch. The
 * takeover is still a new attempt with its own execution and log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import {
  containersOf,
  startServiceFixture,
  waitFor,
  waitForRun,
  workerOfRunningContainer,
  type ServiceFixture,
} from './service-fixture.js';
import { execFileSync } from 'node:child_process';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);

function configFor(seconds: number): string {
  return `- step:
    name: deploy
    image: ${BUSYBOX_IMAGE}
    command:
      - echo "begin"
      - sleep ${seconds}
      - echo "deployed" > /valohai/outputs/receipt.txt
      - 'echo ''{"deployed": 1}'''
      - echo "finished-once"
`;
}

function containerState(runId: string): string {
  return execFileSync(
    'docker',
    [
      'ps',
      '-a',
      '--filter',
      `label=kiln.run=${runId}`,
      '--format',
      '{{.State}}',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  ).trim();
}

describe.skipIf(!ok)('a lost worker whose container ran on', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  async function crashWhileRunning(id: string, runId: string) {
    const worker = await fixture.spawnWorker({ id, runtime: 'docker' });
    await waitFor(
      'the step container to run',
      120_000,
      () => workerOfRunningContainer(runId) === id,
    );
    // `begin` is stored: the lost attempt's log has it.
    await waitFor('the first line stored', 30_000, async () => {
      const [node] = (await fixture.getRun(runId)).nodes;
      return (
        node?.executionId !== undefined &&
        (await fixture.logText(node.executionId)).includes('begin')
      );
    });
    worker.child.kill('SIGKILL');
    await worker.exited;
  }

  async function expectAdopted(runId: string) {
    const run = await waitForRun(
      fixture,
      runId,
      (item) => item.status === 'complete' || item.status === 'error',
      180_000,
    );
    const [node] = run.nodes;
    expect(run.status).toBe('complete');
    expect(node?.attempt).toBe(2);
    const executions = await fixture.executionsOf(run);
    const adopter = executions.find((item) => item.attempt === 2);
    const lost = executions.find((item) => item.attempt === 1);
    expect(adopter?.status).toBe('complete');
    expect(adopter?.notes?.join('\n')).toMatch(
      /adopted the container of execution .* not run again/,
    );
    expect(adopter?.outputs.map((output) => output.path)).toEqual([
      'receipt.txt',
    ]);
    expect(lost?.endReason?.kind).toBe('infra-error');
    // Never run twice: `begin` was printed once, by the lost attempt.
    const lostLog = await fixture.logText(lost?.id ?? '');
    const adopterLog = await fixture.logText(adopter?.id ?? '');
    expect(lostLog).toContain('begin');
    expect(adopterLog).not.toContain('begin');
    expect(containersOf(runId)).toEqual([]);
    return { adopter, adopterLog };
  }

  it('follows a container that still runs to its end, with its metrics', async () => {
    // Long enough to outlast the lock (5 s), the stall check and a start.
    const created = await fixture.startRun(configFor(25), 'deploy');
    await crashWhileRunning('adopt-w1', created.id);

    const restarted = await fixture.spawnWorker({
      id: 'adopt-w1',
      runtime: 'docker',
    });

    const { adopter, adopterLog } = await expectAdopted(created.id);
    expect(adopterLog).toContain('finished-once');
    expect(adopter?.metrics).toMatchObject({ deployed: 1 });
    restarted.child.kill('SIGTERM');
    await restarted.exited;
  }, 300_000);

  it('takes the end of a container that finished while no worker was there', async () => {
    const created = await fixture.startRun(configFor(3), 'deploy');
    await crashWhileRunning('adopt-w2', created.id);
    await waitFor('the orphan to finish', 60_000, () =>
      containerState(created.id).startsWith('exited'),
    );

    await fixture.spawnWorker({ id: 'adopt-w2', runtime: 'docker' });

    await expectAdopted(created.id);
  }, 300_000);
});
