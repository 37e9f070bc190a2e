/**
 * The intake worker: takes delivery jobs from `kiln-intake` and processes
 * them (`processDelivery`). Started by `kiln server` and `kiln up` next to
 * the HTTP server; several processes may run one each. A job whose git
 * fetch fails for a transient reason is retried with backoff; when the
 * last attempt fails, the delivery is recorded as `failed` with the reason
 * so it can be redelivered from GitHub once the cause is fixed.
 */
import { DelayedError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { INTAKE_QUEUE, IntakeJob } from './intake-queue.js';
import { processDelivery, type IntakeDeps } from './process-delivery.js';
import {
  createRepositoryTurns,
  repositoryOfPayload,
} from './repository-turns.js';

export interface IntakeWorkerDeps extends IntakeDeps {
  /** A BullMQ-capable connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  logger: Logger;
  /** Deliveries processed at once. @defaultValue 4 */
  concurrency?: number;
  /**
   * Of those, deliveries of one repository at once (repository-turns.ts);
   * others of it wait in the queue. @defaultValue 1
   */
  perRepository?: number;
  /** BullMQ key prefix (`RedisKeys.bullPrefix`). */
  bullPrefix: string;
}

export interface IntakeWorker {
  /** Waits for jobs in progress, then stops. Idempotent. */
  close(): Promise<void>;
}

// How long a delivery whose repository has its share waits before it is
// looked at again.
const deferMs = 1_000;

/** Starts taking jobs at once (`kiln server`, `kiln up`, tests). */
export function startIntakeWorker(deps: IntakeWorkerDeps): IntakeWorker {
  const { logger } = deps;
  const turns = createRepositoryTurns(deps.perRepository ?? 1);
  const worker = new Worker(
    INTAKE_QUEUE,
    async (job, token) => {
      const parsed = IntakeJob.safeParse(job.data);
      if (!parsed.success) {
        logger.warn(
          { jobId: job.id },
          'intake job with unexpected data dropped',
        );
        return { status: 'rejected' };
      }
      const repository = repositoryOfPayload(parsed.data.payload);
      if (!turns.take(repository)) {
        // Back of the line for a moment, not an attempt: the slot goes to
        // the jobs behind it.
        await job.moveToDelayed(Date.now() + deferMs, token);
        throw new DelayedError();
      }
      let outcome;
      try {
        outcome = await processDelivery(deps, parsed.data);
      } finally {
        turns.give(repository);
      }
      logger.info(
        {
          delivery: parsed.data.deliveryId,
          event: parsed.data.event,
          status: outcome.status,
          reason: outcome.reason,
          runs: outcome.runIds,
        },
        'delivery processed',
      );
      return outcome;
    },
    {
      connection: deps.connection,
      prefix: deps.bullPrefix,
      concurrency: deps.concurrency ?? 4,
    },
  );
  worker.on('failed', (job, error) => {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    const parsed = IntakeJob.safeParse(job.data);
    logger.warn(
      { jobId: job.id, attempt: job.attemptsMade, err: error },
      'intake job failed',
    );
    if (job.attemptsMade < attempts || !parsed.success) return;
    deps.deliveries
      .recordDelivery(parsed.data.deliveryId, {
        status: 'failed',
        reason: `${error.message.slice(0, 500)} (after ${attempts} attempts; redeliver from GitHub once fixed)`,
      })
      .catch((recordError: unknown) => {
        logger.error(
          { err: recordError },
          'could not record a failed delivery',
        );
      });
  });
  worker.on('error', (error) => {
    logger.error({ err: error }, 'intake worker error');
  });
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= worker.close();
      return closing;
    },
  };
}
