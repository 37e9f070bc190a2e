/**
 * Tick jobs: the port (`ScheduleQueue`) and its BullMQ implementation, one
 * BullMQ job scheduler per kiln schedule on the `kiln-schedules` queue.
 * BullMQ keeps exactly one delayed job per scheduler, with an id made of
 * the scheduler and the tick time (`repeat:<id>:<ms>`), and adds the next
 * one when a worker takes it — so however many kiln servers run, a tick is
 * one job taken by one of them. Job data carries the schedule id only.
 *
 * Contract: `upsert` replaces a scheduler's timing and its pending job
 * (BullMQ drops the waiting job and plans the next tick from now), so it
 * is called only when a schedule is new or its cron expression or time
 * zone changed — never at start-up, which would drop a tick missed while
 * kiln was down. `remove` is idempotent.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { z } from 'zod';
import { QUEUES } from '../redis/redis-keys.js';

export const SCHEDULE_QUEUE = QUEUES.schedules;

export const TickJob = z.object({ scheduleId: z.string().min(1).max(200) });
export type TickJob = z.infer<typeof TickJob>;

/**
 * A failed tick (git unreachable) is retried a few times; the tick's
 * decision is stored first, so a retry never changes what it decided.
 */
export const TICK_JOB_OPTIONS: Omit<JobsOptions, 'jobId' | 'repeat'> = {
  attempts: 4,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

export interface ScheduleTiming {
  id: string;
  cron: string;
  timezone: string;
}

export interface ScheduleQueue {
  /** Creates or changes a scheduler; resolves with its next tick (ms). */
  upsert(timing: ScheduleTiming): Promise<number | null>;
  remove(id: string): Promise<void>;
  /** The next tick (ms) of every scheduler, by schedule id. */
  nextTicks(): Promise<Map<string, number>>;
  /** The timing BullMQ holds for one scheduler, or null when there is none. */
  timing(id: string): Promise<{ cron: string; timezone: string } | null>;
  close(): Promise<void>;
}

export function createScheduleQueue(options: {
  connection: ConnectionOptions;
  /** BullMQ key prefix (`RedisKeys.bullPrefix`). */
  bullPrefix: string;
}): ScheduleQueue {
  let queue: Queue | undefined;
  const open = (): Queue => {
    if (!queue) {
      queue = new Queue(SCHEDULE_QUEUE, {
        connection: options.connection,
        prefix: options.bullPrefix,
      });
      // Failures surface through the rejected calls.
      queue.on('error', () => undefined);
    }
    return queue;
  };
  return {
    async upsert(timing) {
      const job = await open().upsertJobScheduler(
        timing.id,
        { pattern: timing.cron, tz: timing.timezone },
        {
          name: 'tick',
          data: { scheduleId: timing.id } satisfies TickJob,
          opts: TICK_JOB_OPTIONS,
        },
      );
      return job ? job.timestamp + (job.opts.delay ?? 0) : null;
    },
    async remove(id) {
      await open().removeJobScheduler(id);
    },
    async nextTicks() {
      const schedulers = await open().getJobSchedulers(0, -1, true);
      const next = new Map<string, number>();
      for (const scheduler of schedulers) {
        if (scheduler.next !== undefined)
          next.set(scheduler.key, scheduler.next);
      }
      return next;
    },
    async timing(id) {
      const scheduler = await open().getJobScheduler(id);
      if (!scheduler?.pattern) return null;
      return { cron: scheduler.pattern, timezone: scheduler.tz ?? 'UTC' };
    },
    async close() {
      await queue?.close();
    },
  };
}
