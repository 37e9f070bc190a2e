/**
 * Schedules as the API, the pages and `kiln schedules` show them: each
 * record with its next tick as BullMQ has planned it and its latest ticks.
 */
import type { ScheduleView } from '../model/schedule.js';
import type { ScheduleQueue } from '../queue/schedule-queue.js';
import type { ScheduleStore } from '../store/schedule-store.js';

export interface ScheduleReadDeps {
  schedules: ScheduleStore;
  queue: Pick<ScheduleQueue, 'nextTicks'>;
}

export async function listSchedules(
  deps: ScheduleReadDeps,
  options: { repository?: string; branch?: string; ticks: number },
): Promise<ScheduleView[]> {
  const [records, next] = await Promise.all([
    deps.schedules.list({
      repository: options.repository,
      branch: options.branch,
    }),
    deps.queue.nextTicks(),
  ]);
  return Promise.all(
    records.map(async (record) => {
      const planned = next.get(record.id);
      return {
        ...record,
        nextTickAt:
          planned === undefined ? null : new Date(planned).toISOString(),
        ticks: await deps.schedules.listTicks(record.id, options.ticks),
      };
    }),
  );
}

export async function getSchedule(
  deps: ScheduleReadDeps,
  options: { id: string; ticks: number },
): Promise<ScheduleView | null> {
  const record = await deps.schedules.get(options.id);
  if (!record) return null;
  const planned = (await deps.queue.nextTicks()).get(record.id);
  return {
    ...record,
    nextTickAt: planned === undefined ? null : new Date(planned).toISOString(),
    ticks: await deps.schedules.listTicks(record.id, options.ticks),
  };
}
