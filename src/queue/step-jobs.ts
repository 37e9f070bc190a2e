/**
 * Step jobs: the port (`StepQueue`) and its BullMQ implementation. A job
 * carries ids only (never credentials: job data is stored in clear text).
 * Its id is deterministic per run, node and generation (each queueing of a
 * node by kiln), so enqueueing the same node twice — a repaired run, a
 * retried change — adds one job while the first is kept, and a later
 * duplicate is harmless: its claim finds the node moved on.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { z } from 'zod';
import { QUEUES } from '../redis/redis-keys.js';

export const DEFAULT_STEP_QUEUE = QUEUES.steps;

export const StepJob = z.object({
  runId: z.string().min(1),
  node: z.string().min(1),
  nodeIndex: z.number().int().min(0),
  /** The node's queueing this job is for. */
  generation: z.number().int().min(1),
  /** Attempts the node had when queued: the claim expects it (fast path). */
  attempt: z.number().int().min(0),
  /** Execution ids of upstream nodes known when queued (saves a read). */
  upstream: z.record(z.string(), z.string()).optional(),
});
export type StepJob = z.infer<typeof StepJob>;

/** BullMQ job ids may not contain `:` nor be all digits. */
export function stepJobId(job: StepJob): string {
  return `${job.runId}-n${job.nodeIndex}-g${job.generation}`;
}

/**
 * Infrastructure failures are retried with backoff; user failures never
 * are. Finished jobs are removed at once: a duplicate is harmless (see above).
 */
export const STEP_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * Where ready steps go. `enqueue` is idempotent per job id and may be
 * called from any process; `close` once.
 */
export interface StepQueue {
  enqueue(queueName: string, jobs: readonly StepJob[]): Promise<void>;
  close(): Promise<void>;
}

/** One BullMQ `Queue` per queue name (under `prefix`), created on first use. */
export function createStepQueue(
  connection: ConnectionOptions,
  prefix: string,
  onError: (error: Error) => void = () => undefined,
): StepQueue {
  const queues = new Map<string, Queue>();
  function queueFor(name: string): Queue {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection, prefix });
      // Connection trouble surfaces in the failing call; don't crash on it.
      queue.on('error', onError);
      queues.set(name, queue);
    }
    return queue;
  }
  return {
    async enqueue(queueName, jobs) {
      if (jobs.length === 0) return;
      const queue = queueFor(queueName);
      const [only] = jobs;
      if (jobs.length === 1 && only) {
        // The common case (a chain's next step): one script, no MULTI.
        await queue.add('step', only, {
          ...STEP_JOB_OPTIONS,
          jobId: stepJobId(only),
        });
        return;
      }
      // Bounded batches (one addBulk is one transaction), sent together.
      const batches: Array<Promise<unknown>> = [];
      for (let start = 0; start < jobs.length; start += 200) {
        batches.push(
          queue.addBulk(
            jobs.slice(start, start + 200).map((job) => ({
              name: 'step',
              data: job,
              opts: { ...STEP_JOB_OPTIONS, jobId: stepJobId(job) },
            })),
          ),
        );
      }
      await Promise.all(batches);
    },
    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      queues.clear();
    },
  };
}
