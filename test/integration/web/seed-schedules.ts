/**
 * Schedules for page and API tests: taken from a kiln.yaml by the real
 * sync (BullMQ job schedulers included), with ticks recorded as the tick
 * handler records them — on time, missed and skipped, run once late, failed.
 */
import { Redis } from 'ioredis';
import { syncSchedules } from '../../../src/control/sync-schedules.js';
import { scheduleIdFor } from '../../../src/control/schedule-id.js';
import type { ScheduleDeps } from '../../../src/control/schedule-deps.js';
import type { ScheduleTick } from '../../../src/model/schedule.js';
import { createScheduleQueue } from '../../../src/queue/schedule-queue.js';
import { createScheduleStore } from '../../../src/store/schedule-store.js';
import { KILN_YAML, REPOSITORY, type WebFixture } from './web-fixture.js';

export const SCHEDULES_YAML = `${KILN_YAML}- trigger:
    name: nightly
    schedule:
      cron: '30 2 * * 1-5'
      timezone: Europe/Helsinki
      missed: skip
    run: train
    parameters:
      epochs: 20
- trigger:
    name: hourly
    schedule:
      cron: '@hourly'
    run: train-evaluate
`;

export interface SeededSchedules {
  nightly: string;
  hourly: string;
  /** Runs the ticks point at. */
  runIds: { onTime: string; late: string };
  close(): Promise<void>;
}

export async function seedSchedules(
  fixture: WebFixture,
): Promise<SeededSchedules> {
  const bull = new Redis(fixture.redis.url, { maxRetriesPerRequest: null });
  bull.on('error', () => undefined);
  const queue = createScheduleQueue({
    connection: bull,
    bullPrefix: fixture.stores.keys.bullPrefix,
  });
  const schedules = createScheduleStore(
    fixture.deps.redis,
    fixture.stores.keys,
  );
  const deps: Pick<ScheduleDeps, 'schedules' | 'queue' | 'control'> = {
    control: fixture.control,
    schedules,
    queue,
  };
  await syncSchedules(
    deps,
    {
      repository: { fullName: REPOSITORY, defaultBranch: 'main' },
      refType: 'branch',
      refName: 'main',
    },
    {
      source: { id: `github.com/${REPOSITORY}`, url: fixture.repoDir },
      commit: fixture.head,
      config: { file: 'kiln.yaml', text: SCHEDULES_YAML },
    },
  );
  const nightly = scheduleIdFor({
    repository: REPOSITORY,
    branch: 'main',
    trigger: 'nightly',
  });
  const hourly = scheduleIdFor({
    repository: REPOSITORY,
    branch: 'main',
    trigger: 'hourly',
  });
  const onTime = await fixture.seedRun({
    name: 'train',
    trigger: { event: 'schedule', schedule: nightly },
  });
  const late = await fixture.seedRun({
    trigger: { event: 'schedule', schedule: hourly },
  });
  const record = async (id: string, tick: ScheduleTick) => {
    await schedules.decideTick(id, tick);
    await schedules.recordTick(id, tick);
  };
  await record(nightly, {
    at: '2026-03-02T00:30:00.000Z',
    outcome: 'run',
    runId: onTime.id,
    commit: fixture.head,
    handledAt: '2026-03-02T00:30:00.041Z',
  });
  await record(nightly, {
    at: '2026-03-03T00:30:00.000Z',
    outcome: 'missed',
    missed: {
      count: 3,
      first: '2026-03-03T00:30:00.000Z',
      last: '2026-03-05T00:30:00.000Z',
    },
    reason: 'no kiln server was running at these ticks (missed: skip)',
    handledAt: '2026-03-05T08:12:09.300Z',
  });
  await record(hourly, {
    at: '2026-03-05T07:00:00.000Z',
    outcome: 'run',
    runId: late.id,
    commit: fixture.head,
    missed: {
      count: 2,
      first: '2026-03-05T07:00:00.000Z',
      last: '2026-03-05T08:00:00.000Z',
    },
    handledAt: '2026-03-05T08:12:09.310Z',
  });
  await record(hourly, {
    at: '2026-03-05T09:00:00.000Z',
    outcome: 'failed',
    reason: 'there is no branch main in acme/models',
    handledAt: '2026-03-05T09:00:00.020Z',
  });
  return {
    nightly,
    hourly,
    runIds: { onTime: onTime.id, late: late.id },
    async close() {
      await queue.close();
      bull.disconnect();
    },
  };
}
