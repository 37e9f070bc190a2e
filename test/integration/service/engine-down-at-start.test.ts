/**
 * The Docker engine down when a step starts (reliability plan §8.3 F15):
 * a real `kiln worker` on an engine of the test's own, stopped before the
 * step is queued. The worker stops taking steps (an attempt that met the
 * dead engine is an infrastructure error, never the step's failure), its
 * /readyz turns red, the step waits in the queue instead of spending its
 * retries, and once the engine is back the worker takes it and runs it to
 * completion, and /readyz is green again.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STEP_QUEUE } from '../../../src/queue/step-jobs.js';
import {
  havePrivateDockerd,
  startPrivateDockerd,
  type PrivateDockerd,
} from '../../helpers/private-dockerd.js';
import { freePort } from '../../helpers/redis-server.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import {
  startServiceFixture,
  waitFor,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE) && havePrivateDockerd();

const CONFIG = `- step:
    name: quick
    image: ${BUSYBOX_IMAGE}
    command:
      - 'echo ''{"ran": 1}'''
`;

describe.skipIf(!ok)('the Docker engine down when a step starts', () => {
  let fixture: ServiceFixture;
  let engine: PrivateDockerd;
  beforeAll(async () => {
    [fixture, engine] = await Promise.all([
      startServiceFixture(),
      startPrivateDockerd(),
    ]);
  }, 180_000);
  afterAll(async () => {
    await fixture?.close();
    await engine?.close();
  }, 120_000);

  async function readyz(port: number) {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    const body = (await response.json()) as { checks: Record<string, boolean> };
    return { status: response.status, runtime: body.checks.runtime };
  }

  it('waits in the queue while the engine is down and runs once it is back; /readyz red meanwhile', async () => {
    const port = await freePort();
    const worker = await fixture.spawnWorker({
      id: 'engine-w1',
      runtime: 'docker',
      env: {
        DOCKER_HOST: engine.host,
        KILN_WORKER_PORT: String(port),
        KILN_HOST: '127.0.0.1',
      },
    });
    expect(await readyz(port)).toEqual({ status: 200, runtime: true });
    await engine.stop();

    const created = await fixture.startRun(CONFIG, 'quick');
    // The worker stops taking steps: the step waits in the queue, its
    // retries not spent on an engine that is away.
    await waitFor('the worker to stop taking steps', 60_000, () =>
      worker.output().includes('the container engine does not answer'),
    );
    // In the queue and not taken by the paused worker: its retries are
    // kept for an engine that answers.
    const queue = new Queue(DEFAULT_STEP_QUEUE, {
      connection: fixture.redisClient,
      prefix: fixture.keys.bullPrefix,
    });
    try {
      const states = ['waiting', 'prioritized', 'delayed'] as const;
      await waitFor('the step job to wait in the queue', 60_000, async () => {
        const counts = await queue.getJobCounts(...states, 'active');
        return (
          counts.active === 0 &&
          states.reduce((sum, state) => sum + (counts[state] ?? 0), 0) === 1
        );
      });
      const [job] = await queue.getJobs([...states]);
      expect(job?.attemptsMade ?? 0).toBeLessThan(job?.opts.attempts ?? 5);
    } finally {
      await queue.close();
    }
    const waiting = await fixture.deps.runs.getRun(created.id);
    expect(waiting?.status).not.toBe('error');
    expect(waiting?.nodes[0]?.status).toBe('queued');
    expect(await readyz(port)).toEqual({ status: 503, runtime: false });
    // Whatever attempt met the dead engine first was the engine's failure.
    for (const execution of waiting
      ? await fixture.executionsOf(waiting)
      : []) {
      expect(execution.endReason).toMatchObject({ kind: 'infra-error' });
    }

    await engine.start();
    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'complete' || item.status === 'error',
      120_000,
    );

    expect(run.status, worker.output().slice(-3000)).toBe('complete');
    expect(worker.output()).toContain(
      'the container engine answers again: taking steps',
    );
    const executions = await fixture.executionsOf(run);
    const last = executions[0];
    expect(last?.status).toBe('complete');
    expect(last?.metrics).toMatchObject({ ran: 1 });
    // No attempt was blamed on the step.
    for (const execution of executions.slice(1)) {
      expect(execution.endReason).toMatchObject({ kind: 'infra-error' });
    }
    await waitFor('/readyz to be green again', 30_000, async () => {
      return (await readyz(port)).status === 200;
    });
  }, 300_000);
});
