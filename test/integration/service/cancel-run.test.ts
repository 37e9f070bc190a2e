/**
 * Cancelling a running run: the worker watching it stops the container
 * (reason `stopped`), the node after it is skipped, and no container is
 * left (reliability plan F21).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/control/cancel-run.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import { pipelineConfig } from './pipeline-configs.js';
import {
  containersOf,
  startServiceFixture,
  waitFor,
  waitForRun,
  workerOfRunningContainer,
  type ServiceFixture,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);

describe.skipIf(!ok)('cancelling a running run', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('stops its container and skips the pending nodes', async () => {
    const config = pipelineConfig(
      {
        name: 'long',
        nodes: ['long', 'after'],
        edges: [['long', 'after', 'v']],
      },
      [
        { name: 'long', before: ['echo long-begins', 'sleep 120'] },
        { name: 'after' },
      ],
      // Inside the container: a path of its own scratch space.
      '/tmp/marker',
    );
    await fixture.spawnWorker({ id: 'cancel-w1', runtime: 'docker' });
    const created = await fixture.startRun(config, 'long');
    expect(created.status).toBe('queued');
    await waitFor('the step container to run', 120_000, () =>
      Boolean(workerOfRunningContainer(created.id)),
    );
    expect(
      await cancelRun(fixture.deps, { runId: created.id, reason: 'by test' }),
    ).toBe(true);

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.nodes.every((node) => node.endedAt !== undefined),
      120_000,
    );
    expect(run.status).toBe('cancelled');
    expect(run.nodes.map((node) => [node.name, node.status])).toEqual([
      ['long', 'stopped'],
      ['after', 'skipped'],
    ]);
    const executions = await fixture.executionsOf(run);
    expect(executions).toHaveLength(1);
    expect(executions[0]?.endReason).toEqual({ kind: 'stopped' });
    await waitFor(
      'the container to be removed',
      60_000,
      () => containersOf(created.id).length === 0,
    );
  }, 300_000);
});
