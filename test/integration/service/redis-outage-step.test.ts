/**
 * Redis away longer than the job lock while a step runs (reliability plan
 * §8.3 F4/F6, issue 11 item 5: "a 60 s Redis outage during a 120 s step
 * made the worker kill its own healthy container"). The lock lapses while
 * Redis is away, so when it is back BullMQ hands the job out again — to the
 * same worker, which has a free slot. The attempt is still alive and
 * beating: the step is not taken over, its container is not killed, and
 * it completes once, with its whole log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import {
  LOCK_DURATION_MS,
  startServiceFixture,
  waitFor,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);

const CONFIG = `- step:
    name: long
    image: ${BUSYBOX_IMAGE}
    command:
      - echo "begin"
      - sleep 25
      - echo "end"
`;

describe.skipIf(!ok)(
  'Redis away longer than the lock while a step runs',
  () => {
    let fixture: ServiceFixture;
    beforeAll(async () => {
      fixture = await startServiceFixture();
    }, 120_000);
    afterAll(async () => {
      await fixture?.close();
    }, 60_000);

    it('keeps the attempt: no takeover, no killed container, one complete execution', async () => {
      await fixture.spawnWorker({
        id: 'outage-w1',
        runtime: 'docker',
        concurrency: 2,
      });
      const created = await fixture.startRun(CONFIG, 'long');
      await waitFor('the first line stored', 120_000, async () => {
        const [node] = (await fixture.getRun(created.id)).nodes;
        return (
          node?.executionId !== undefined &&
          (await fixture.logText(node.executionId)).includes('begin')
        );
      });

      await fixture.redis.stop();
      // The fault itself: three lock durations without Redis.
      await sleep(3 * LOCK_DURATION_MS);
      await fixture.redis.restart();

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
      if (run.status !== 'complete') {
        const executions = await fixture.executionsOf(run);
        throw new Error(
          `${JSON.stringify(run.nodes)}\n${JSON.stringify(executions.map((item) => [item.id, item.status, item.endReason, item.notes]))}\n${await fixture.describe(run.id)}`,
        );
      }
      expect(run.status).toBe('complete');
      expect(run.nodes[0]).toMatchObject({ status: 'complete', attempt: 1 });
      const executions = await fixture.executionsOf(run);
      expect(executions.map((item) => [item.attempt, item.status])).toEqual([
        [1, 'complete'],
      ]);
      expect(executions[0]?.endReason).toEqual({ kind: 'exited', exitCode: 0 });
      const log = await fixture.logText(executions[0]?.id ?? '');
      expect(log.split('\n')).toEqual(['begin', 'end']);
    }, 300_000);
  },
);
