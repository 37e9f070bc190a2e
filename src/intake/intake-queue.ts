/**
 * The `kiln-intake` BullMQ queue: one job per accepted webhook delivery,
 * taken by the intake worker (`startIntakeWorker`). The job id comes from
 * the delivery GUID, so adding the same delivery twice adds one job while
 * the job is kept (4 days, longer than GitHub's redelivery window). Job
 * data is stored in clear text: it holds the fields of the payload kiln
 * reads (forge/github/trim-payload.ts), never a credential.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { KilnError } from '../errors.js';
import { QUEUES } from '../redis/redis-keys.js';

export const INTAKE_QUEUE = QUEUES.intake;

export const IntakeJob = z.object({
  deliveryId: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
  event: z.string().min(1).max(100),
  /** JSON text of the verified payload's fields kiln reads. */
  payload: z.string(),
});
export type IntakeJob = z.infer<typeof IntakeJob>;

export const INTAKE_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 4 * 24 * 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** BullMQ job ids may not contain `:` nor be all digits. */
export function intakeJobId(deliveryId: string): string {
  return `d-${deliveryId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

export class EnqueueTimeoutError extends KilnError {
  readonly code = 'ENQUEUE_TIMEOUT';
  constructor(ms: number) {
    super(
      `queueing the delivery took longer than ${ms} ms (is Redis reachable?); GitHub can redeliver it`,
    );
  }
}

export interface IntakeQueue {
  /** Idempotent per delivery id. Rejects when Redis is down or slow. */
  enqueue(job: IntakeJob): Promise<void>;
  close(): Promise<void>;
}

export interface CreateIntakeQueueOptions {
  /**
   * A client without an offline queue, so a Redis outage fails the add
   * instead of parking it. Shared: `close` leaves it open.
   */
  connection: Redis;
  /** @defaultValue 3000 */
  timeoutMs?: number;
  /** BullMQ key prefix (`RedisKeys.bullPrefix`). */
  bullPrefix: string;
}

export function createIntakeQueue(
  options: CreateIntakeQueueOptions,
): IntakeQueue {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const queue = new Queue(INTAKE_QUEUE, {
    connection: options.connection,
    prefix: options.bullPrefix,
  });
  // Connection errors surface through the rejected add; without a listener
  // an 'error' event would crash the process.
  queue.on('error', () => undefined);
  return {
    async enqueue(job) {
      const data = IntakeJob.parse(job);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          queue.add('delivery', data, {
            ...INTAKE_JOB_OPTIONS,
            jobId: intakeJobId(data.deliveryId),
          }),
          new Promise<never>((_resolve, reject) => {
            timer = setTimeout(
              () => reject(new EnqueueTimeoutError(timeoutMs)),
              timeoutMs,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await queue.close();
    },
  };
}
