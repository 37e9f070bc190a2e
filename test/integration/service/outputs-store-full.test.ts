/**
 * Outputs that can't be stored are never lost silently (reliability plan
 * §8.3 F20, issue 11 item 3): a worker whose artifact store is a real
 * 40 MB file system runs a step that leaves two 30 MB outputs. The store
 * can't take both, so the execution is an infrastructure error that says
 * the store is full — never `complete` with one output missing.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import {
  haveSmallFilesystems,
  mountSmallFilesystem,
  type SmallFilesystem,
} from '../../helpers/small-filesystem.js';
import {
  startServiceFixture,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE) && haveSmallFilesystems();

const CONFIG = `- step:
    name: big-outputs
    image: ${BUSYBOX_IMAGE}
    command:
      - head -c 30000000 /dev/urandom > /valohai/outputs/a.bin
      - head -c 30000000 /dev/urandom > /valohai/outputs/b.bin
      - echo written
`;

describe.skipIf(!ok)('an artifact store that fills up', () => {
  let fixture: ServiceFixture;
  let store: SmallFilesystem;
  beforeAll(async () => {
    fixture = await startServiceFixture();
    store = mountSmallFilesystem({
      megabytes: 40,
      path: join(fixture.hostDir, 'data-full-w1', 'artifacts'),
    });
    await fixture.spawnWorker({
      id: 'full-w1',
      runtime: 'docker',
      // Retries cost seconds, not the default backoff's half minute.
      env: { KILN_ARTIFACTS_RESERVE_BYTES: '1048576' },
    });
  }, 120_000);
  afterAll(async () => {
    // Unmounted first (lazily): the fixture then removes its temp dir.
    store?.close();
    await fixture?.close();
  }, 60_000);

  it('fails the execution as an infrastructure error naming the full store, never complete', async () => {
    const created = await fixture.startRun(CONFIG, 'big-outputs');

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'complete' || item.status === 'error',
      240_000,
    );

    const [node] = run.nodes;
    expect(run.status).toBe('error');
    expect(node?.status).toBe('error');
    expect(node?.message).toMatch(/artifact store .* full|no space/i);
    const executions = await fixture.executionsOf(run);
    expect(executions.length).toBeGreaterThan(0);
    for (const execution of executions) {
      expect(execution.status).toBe('error');
      expect(execution.endReason?.kind).toBe('infra-error');
      expect(execution.outputs).toEqual([]);
    }
  }, 300_000);
});
