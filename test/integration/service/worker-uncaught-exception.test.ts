/**
 * An exception nobody catches in a worker (reliability plan F29, I2, I3,
 * I7): the worker logs it once and exits with code 1 at once — no hang,
 * no carrying on half-broken. kiln does not restart itself; its service
 * manager does (here the test, as Compose's `restart: unless-stopped`
 * would: same id, same data dir). The restarted worker takes the step over
 * once the lock lapses (BullMQ's stalled check), adopts the lost attempt's
 * container instead of running the step again, and the step completes
 * exactly once; the lost attempt is closed as an infrastructure error.
 * The step outlasts the takeover (40 s), so the adopter follows it to its
 * end, metrics included.
 *
 * The fault is injected from outside kiln's code: the worker is started
 * with `NODE_OPTIONS=--import test/fixtures/process-faults/crash-on-marker.mjs`,
 * which throws from a timer once the test drops a marker file.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);
const CRASH_MODULE = resolve(
  import.meta.dirname,
  '../../fixtures/process-faults/crash-on-marker.mjs',
);

const CONFIG = `- step:
    name: deploy
    image: ${BUSYBOX_IMAGE}
    command:
      - echo "begin"
      - sleep 40
      - echo "deployed" > /valohai/outputs/receipt.txt
      - 'echo ''{"deployed": 1}'''
      - echo "finished-once"
`;

/** Lines of a worker's output that are pino `fatal` records. */
function fatalLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.level === 60);
}

describe.skipIf(!ok)('an uncaught exception in a worker', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('exits with code 1 logging it once; restarted, the worker adopts the step and it completes once', async () => {
    const marker = join(fixture.hostDir, 'crash-now');
    const crashing = await fixture.spawnWorker({
      id: 'f29-w1',
      runtime: 'docker',
      env: {
        NODE_OPTIONS: `--import ${CRASH_MODULE}`,
        KILN_TEST_CRASH_MARKER: marker,
      },
    });
    const created = await fixture.startRun(CONFIG, 'deploy');
    await waitFor('the step container to run', 120_000, () => {
      return workerOfRunningContainer(created.id) === 'f29-w1';
    }).catch(async (error: unknown) => {
      throw new Error(
        `${String(error)}\n${await fixture.describe(created.id)}`,
      );
    });
    await waitFor('the first line stored', 30_000, async () => {
      const [node] = (await fixture.getRun(created.id)).nodes;
      return (
        node?.executionId !== undefined &&
        (await fixture.logText(node.executionId)).includes('begin')
      );
    });

    const thrownAt = Date.now();
    writeFileSync(marker, '');
    const code = await crashing.exited;
    const exitMs = Date.now() - thrownAt;
    expect(code).toBe(1);
    // No hang: it exits at once, not after a grace period or a timeout.
    expect(exitMs).toBeLessThan(5_000);
    expect(existsSync(marker)).toBe(false);
    const fatal = fatalLines(crashing.output());
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toMatch(
      /^kiln worker crashed \(uncaught exception\): exiting/,
    );
    expect(fatal[0]?.origin).toBe('uncaughtException');
    expect(JSON.stringify(fatal[0]?.err)).toContain(
      'injected fault F29: an uncaught exception',
    );
    // Logged once: not also as Node's own stack dump on stderr.
    expect(
      crashing.output().split('injected fault F29').length - 1,
    ).toBeLessThanOrEqual(2);
    // Nothing half-written: the attempt is still the lost worker's, started.
    const [held] = (await fixture.getRun(created.id)).nodes;
    expect(held?.status).toBe('started');
    expect(held?.attempt).toBe(1);

    // The service manager restarts it.
    const restarted = await fixture.spawnWorker({
      id: 'f29-w1',
      runtime: 'docker',
    });
    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'complete' || item.status === 'error',
      180_000,
    ).catch(async (error: unknown) => {
      throw new Error(
        `${String(error)}\n${await fixture.describe(created.id)}`,
      );
    });
    expect(run.status).toBe('complete');
    const [node] = run.nodes;
    expect(node?.status).toBe('complete');
    expect(node?.attempt).toBe(2);
    const executions = await fixture.executionsOf(run);
    expect(
      executions.map((item) => [item.attempt, item.status]).sort(),
    ).toEqual([
      [1, 'error'],
      [2, 'complete'],
    ]);
    const lost = executions.find((item) => item.attempt === 1);
    const adopter = executions.find((item) => item.attempt === 2);
    expect(lost?.endReason?.kind).toBe('infra-error');
    expect(adopter?.id).toBe(node?.executionId);
    expect(adopter?.notes?.join('\n')).toMatch(
      /adopted the container of execution .* not run again/,
    );
    expect(adopter?.metrics).toMatchObject({ deployed: 1 });
    expect(adopter?.outputs.map((output) => output.path)).toEqual([
      'receipt.txt',
    ]);
    // Run once: `begin` by the lost attempt only, `finished-once` once.
    const lostLog = await fixture.logText(lost?.id ?? '');
    const adopterLog = await fixture.logText(adopter?.id ?? '');
    expect(lostLog).toContain('begin');
    expect(adopterLog).not.toContain('begin');
    expect(
      `${lostLog}\n${adopterLog}`
        .split('\n')
        .filter((line) => line === 'finished-once'),
    ).toEqual(['finished-once']);
    expect(containersOf(created.id)).toEqual([]);
    expect(fatalLines(restarted.output())).toEqual([]);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  }, 300_000);

  it('exits the same way on a promise rejection nobody handles', async () => {
    const marker = join(fixture.hostDir, 'reject-now');
    const worker = await fixture.spawnWorker({
      id: 'f29-w2',
      runtime: 'docker',
      env: {
        NODE_OPTIONS: `--import ${CRASH_MODULE}`,
        KILN_TEST_CRASH_MARKER: marker,
        KILN_TEST_CRASH_KIND: 'rejection',
      },
    });
    writeFileSync(marker, '');
    expect(await worker.exited).toBe(1);
    const fatal = fatalLines(worker.output());
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toMatch(
      /^kiln worker crashed \(unhandled promise rejection\): exiting/,
    );
    expect(JSON.stringify(fatal[0]?.err)).toContain(
      'injected fault F29: a rejection',
    );
  }, 120_000);
});
