/**
 * One live worker per KILN_WORKER_ID (reliability plan F28: a worker's
 * reaper removes its id's containers that no started step holds, so two
 * live workers sharing an id would remove each other's running steps).
 * Real `kiln worker` processes on a real redis-server: a second worker
 * with a live worker's id refuses to start, saying why; a worker
 * restarted after a crash waits for its old claim to lapse and starts;
 * after a graceful stop the id is free at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedis } from '../../helpers/services.js';
import {
  LOCK_DURATION_MS,
  startServiceFixture,
  waitFor,
  type ServiceFixture,
} from './service-fixture.js';

describe.skipIf(!haveRedis())('a worker id held by a live worker', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('refuses a second live worker of the same id, and lets a restart after a crash take it', async () => {
    const first = await fixture.spawnWorker({
      id: 'same-id',
      runtime: 'local',
    });

    const second = await fixture.spawnWorker({
      id: 'same-id',
      runtime: 'local',
      waitUntilStarted: false,
    });
    const code = await second.exited;

    expect(code).not.toBe(0);
    expect(second.output()).toContain(
      'KILN_WORKER_ID=same-id is held by another live worker',
    );
    expect(second.output()).not.toContain('worker started');
    expect(first.child.exitCode).toBeNull();

    // A crash leaves the claim behind until it lapses (the lock duration).
    first.child.kill('SIGKILL');
    await first.exited;
    const crashedAt = Date.now();
    const restarted = await fixture.spawnWorker({
      id: 'same-id',
      runtime: 'local',
    });
    expect(restarted.output()).toContain(
      'another worker holds this worker id: waiting',
    );
    expect(Date.now() - crashedAt).toBeLessThan(LOCK_DURATION_MS + 10_000);

    // A graceful stop frees the id at once: the next start does not wait.
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
    const next = await fixture.spawnWorker({ id: 'same-id', runtime: 'local' });
    expect(next.output()).not.toContain('another worker holds this worker id');
    await waitFor(
      'the worker to run',
      5_000,
      () => next.child.exitCode === null,
    );
  }, 120_000);
});
