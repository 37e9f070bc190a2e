/**
 * The schedule worker: takes tick jobs from `kiln-schedules` and handles
 * each (`runScheduleTick`). Started by `kiln server` and `kiln up` next to
 * the intake worker; every server runs one, and BullMQ gives each tick job
 * to exactly one of them. A tick whose git server does not answer is
 * retried with backoff; when the last attempt fails, the tick is recorded
 * as failed with the reason.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { runScheduleTick } from '../control/run-schedule-tick.js';
import type { ScheduleDeps } from '../control/schedule-deps.js';
import { SCHEDULE_QUEUE, TickJob } from '../queue/schedule-queue.js';

export interface ScheduleWorkerDeps extends ScheduleDeps {
  /** A BullMQ-capable connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  /** BullMQ key prefix (`RedisKeys.bullPrefix`). */
  bullPrefix: string;
  logger: Logger;
  /** Ticks handled at once. @defaultValue 2 */
  concurrency?: number;
}

export interface ScheduleWorker {
  /** Waits for ticks being handled, then stops. Idempotent. */
  close(): Promise<void>;
}

/**
 * The tick a job is for: BullMQ names scheduler jobs
 * `repeat:<scheduler>:<tick ms>` and keeps the tick in `opts.prevMillis`.
 */
export function tickTimeOf(job: Pick<Job, 'id' | 'opts'>): number | null {
  const planned = (job.opts as { prevMillis?: unknown }).prevMillis;
  if (typeof planned === 'number' && Number.isFinite(planned)) return planned;
  const fromId = /:(\d{1,16})$/.exec(job.id ?? '')?.[1];
  return fromId === undefined ? null : Number(fromId);
}

export function startScheduleWorker(deps: ScheduleWorkerDeps): ScheduleWorker {
  const { logger } = deps;
  const worker = new Worker(
    SCHEDULE_QUEUE,
    async (job) => {
      const parsed = TickJob.safeParse(job.data);
      const tickAt = tickTimeOf(job);
      if (!parsed.success || tickAt === null) {
        logger.warn({ jobId: job.id }, 'tick job with unexpected data dropped');
        return { outcome: 'dropped' };
      }
      const tick = await runScheduleTick(deps, {
        scheduleId: parsed.data.scheduleId,
        tickAt,
        // When this attempt started, not now: git may have taken a while.
        takenAt: job.processedOn ?? Date.now(),
      });
      logger.info(
        {
          schedule: parsed.data.scheduleId,
          tick: tick.at,
          outcome: tick.outcome,
          run: tick.runId,
          missed: tick.missed?.count,
          reason: tick.reason,
        },
        'schedule tick handled',
      );
      return tick;
    },
    {
      connection: deps.connection,
      prefix: deps.bullPrefix,
      concurrency: deps.concurrency ?? 2,
    },
  );
  worker.on('failed', (job, error) => {
    if (!job) return;
    logger.warn(
      { jobId: job.id, attempt: job.attemptsMade, err: error },
      'schedule tick failed',
    );
    const parsed = TickJob.safeParse(job.data);
    const tickAt = tickTimeOf(job);
    if (
      job.attemptsMade < (job.opts.attempts ?? 1) ||
      !parsed.success ||
      tickAt === null
    )
      return;
    void recordFailure(deps, {
      scheduleId: parsed.data.scheduleId,
      tickAt,
      reason: `${error.message.slice(0, 500)} (after ${job.attemptsMade} attempts)`,
    }).catch((recordError: unknown) =>
      logger.error({ err: recordError }, 'could not record a failed tick'),
    );
  });
  worker.on('error', (error) => {
    logger.error({ err: error }, 'schedule worker error');
  });
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= worker.close();
      return closing;
    },
  };
}

async function recordFailure(
  deps: ScheduleDeps,
  options: { scheduleId: string; tickAt: number; reason: string },
): Promise<void> {
  if (!(await deps.schedules.get(options.scheduleId))) return;
  const at = new Date(options.tickAt).toISOString();
  const decided = await deps.schedules.decideTick(options.scheduleId, {
    at,
    outcome: 'failed',
    handledAt: new Date().toISOString(),
  });
  await deps.schedules.recordTick(options.scheduleId, {
    ...decided,
    outcome: 'failed',
    reason: options.reason,
  });
}
