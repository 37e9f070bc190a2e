/**
 * A worker frozen (SIGSTOP) past its job lock while its step runs: another
 * worker takes the node over with a new attempt and finishes the run. When
 * the frozen one is resumed (SIGCONT) it carries on where it stopped —
 * and every write it tries is refused: the run, its nodes, its executions
 * and its event stream stay as the survivor left them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import {
  startServiceFixture,
  waitFor,
  waitForRun,
  workerOfRunningContainer,
  type ServiceFixture,
  type WorkerProcess,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);

const CONFIG = `
- step:
    name: slow
    image: ${BUSYBOX_IMAGE}
    command:
      - echo begins
      - sleep 9
      - "echo '{\\"slept\\": 9}'"
`;

describe.skipIf(!ok)('a worker frozen past its lock, then resumed', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('can change nothing of a run that moved on', async () => {
    const workers: WorkerProcess[] = [
      await fixture.spawnWorker({ id: 'frozen-w1', runtime: 'docker' }),
      await fixture.spawnWorker({ id: 'frozen-w2', runtime: 'docker' }),
    ];
    const created = await fixture.startRun(CONFIG, 'slow');
    let holder: string | undefined;
    await waitFor('the step container to run', 120_000, () => {
      holder = workerOfRunningContainer(created.id);
      return holder !== undefined;
    }).catch(async (error: unknown) => {
      throw new Error(
        `${String(error)}\n${await fixture.describe(created.id)}`,
      );
    });
    const frozen = workers.find(
      (worker) => worker.id === holder,
    ) as WorkerProcess;
    const survivor = workers.find(
      (worker) => worker.id !== holder,
    ) as WorkerProcess;
    frozen.child.kill('SIGSTOP');

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'complete',
      180_000,
    ).catch(async (error: unknown) => {
      frozen.child.kill('SIGCONT');
      throw new Error(
        `${String(error)}\n${await fixture.describe(created.id)}`,
      );
    });
    const events = await fixture.deps.runs.readRunEvents(run.id, {
      count: 10_000,
    });
    const executions = await fixture.executionsOf(run);
    const jobsDone = frozen.output().split('step job done').length;
    frozen.child.kill('SIGCONT');
    await waitFor(
      'the resumed worker to end its step job',
      120_000,
      () => frozen.output().split('step job done').length > jobsDone,
    );

    expect(run.nodes[0]).toMatchObject({ status: 'complete', attempt: 2 });
    expect(survivor.output()).toContain('"outcome":"complete"');
    expect(await fixture.getRun(run.id)).toEqual(run);
    expect(
      await fixture.deps.runs.readRunEvents(run.id, { count: 10_000 }),
    ).toEqual(events);
    expect(await fixture.executionsOf(run)).toEqual(executions);
    expect(
      executions.map((item) => [
        item.attempt,
        item.status,
        item.host.length > 0,
      ]),
    ).toEqual([
      [2, 'complete', true],
      [1, 'error', true],
    ]);
    expect(executions[1]?.endReason).toEqual({
      kind: 'infra-error',
      message: `worker ${holder} was lost; attempt 2 takes over`,
    });
  }, 300_000);
});
