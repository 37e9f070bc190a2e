/**
 * Redis coming back empty (reliability plan §8.3 F5, issue 11 item 4):
 * restarted without its data while a step runs. Runs, queues, tokens and
 * secrets vanished with no alarm and statuses stayed pending forever; now
 * every process notices within seconds that the store's epoch is gone:
 * an error in its log saying what was lost and what to do, `/readyz`
 * failing on `store`, `kiln_store_lost 1` — and the running attempt, whose
 * run is gone, stops and leaves no container. A worker started again on
 * the emptied store says so at once.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/redis-server.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import {
  containersOf,
  startServiceFixture,
  waitFor,
  workerOfRunningContainer,
  type ServiceFixture,
  type WorkerProcess,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);

const CONFIG = `- step:
    name: long
    image: ${BUSYBOX_IMAGE}
    command:
      - echo "begin"
      - sleep 120
`;

const ALARM = "the Redis store lost kiln's data";

describe.skipIf(!ok)('Redis that comes back empty', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  async function ready(port: number) {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return {
      status: response.status,
      body: (await response.json()) as { checks: Record<string, boolean> },
    };
  }

  async function storeLostGauge(port: number): Promise<string | undefined> {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return /^kiln_store_lost (\d)$/m.exec(text)?.[1];
  }

  it('is noticed by every process: an alarm, /readyz failing, the gauge, and the orphaned step stopped', async () => {
    const port = await freePort();
    let worker: WorkerProcess = await fixture.spawnWorker({
      id: 'empty-w1',
      runtime: 'docker',
      env: {
        KILN_WORKER_PORT: String(port),
        KILN_HOST: '127.0.0.1',
        KILN_METRICS_PUBLIC: 'true',
      },
    });
    expect((await ready(port)).body.checks.store).toBe(true);
    expect(await storeLostGauge(port)).toBe('0');
    const created = await fixture.startRun(CONFIG, 'long');
    await waitFor(
      'the step container to run',
      120_000,
      () => workerOfRunningContainer(created.id) === 'empty-w1',
    );

    await fixture.redis.stop();
    for (const name of readdirSync(fixture.redis.dir)) {
      rmSync(join(fixture.redis.dir, name), { recursive: true, force: true });
    }
    await fixture.redis.restart();

    await waitFor('the alarm', 60_000, () => worker.output().includes(ALARM));
    const answer = await ready(port);
    expect(answer.status).toBe(503);
    expect(answer.body.checks).toMatchObject({ redis: true, store: false });
    expect(await storeLostGauge(port)).toBe('1');
    await waitFor(
      'the orphaned step to stop',
      60_000,
      () => containersOf(created.id).length === 0,
    );

    worker.child.kill('SIGTERM');
    await worker.exited;
    worker = await fixture.spawnWorker({ id: 'empty-w1', runtime: 'docker' });
    await waitFor('the alarm at start', 30_000, () =>
      worker.output().includes(ALARM),
    );
    expect(worker.output()).toContain(
      'it was empty when this process started, though this host last worked with it',
    );
  }, 300_000);
});
