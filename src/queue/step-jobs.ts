/**
 * Step jobs on BullMQ. A job carries ids only (never credentials: job data
 * is stored in clear text). Its id is deterministic per run, node and
 * attempt, so enqueueing the same node twice — two workers advancing the
 * same run at once, a retried advance — adds one job.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { z } from 'zod';

export const DEFAULT_STEP_QUEUE = 'kiln-steps';

export const StepJob = z.object({
  runId: z.string().min(1),
  node: z.string().min(1),
  nodeIndex: z.number().int().min(0),
  attempt: z.number().int().min(1),
});
export type StepJob = z.infer<typeof StepJob>;

/** BullMQ job ids may not contain `:` nor be all digits. */
export function stepJobId(job: StepJob): string {
  return `${job.runId}-n${job.nodeIndex}-a${job.attempt}`;
}

/** Infrastructure failures are retried with backoff; user failures never are. */
export const STEP_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  // Completed jobs stay a while so a late duplicate add is still deduplicated.
  removeOnComplete: { age: 3 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export interface StepQueues {
  enqueue(queueName: string, job: StepJob): Promise<void>;
  close(): Promise<void>;
}

/** One BullMQ `Queue` per queue name, created on first use. */
export function createStepQueues(
  connection: ConnectionOptions,
  prefix?: string,
  onError: (error: Error) => void = () => undefined,
): StepQueues {
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
    async enqueue(queueName, job) {
      const data = StepJob.parse(job);
      await queueFor(queueName).add('step', data, {
        ...STEP_JOB_OPTIONS,
        jobId: stepJobId(data),
      });
    },
    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      queues.clear();
    },
  };
}
