/**
 * The BullMQ worker that runs step jobs. A thrown error is an
 * infrastructure failure and is retried with backoff; on the last attempt
 * (or when BullMQ gives up on a stalled job) the node is marked failed with
 * the reason, so a run never hangs on a job that will not come back.
 */
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { StepJob } from '../queue/step-jobs.js';
import { executeNode } from './execute-node.js';
import type { NodeOutcome } from './node-outcome.js';
import { failNodeForInfrastructure } from './finish-node.js';
import type { WorkerDeps } from './worker-deps.js';

export interface StepWorkerOptions {
  queue: string;
  concurrency: number;
  connection: ConnectionOptions;
  prefix?: string;
  /**
   * BullMQ's job lock and stalled-job check: a step held by a worker that
   * died is taken up by another after about lock + interval.
   * @defaultValue 30000 each (BullMQ's defaults)
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export function startStepWorker(
  deps: WorkerDeps,
  options: StepWorkerOptions,
): Worker<StepJob, NodeOutcome> {
  const worker = new Worker<StepJob, NodeOutcome>(
    options.queue,
    async (job: Job<StepJob>) => {
      const data = StepJob.parse(job.data);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // Every line logged while this step is handled names its run and node.
      const scoped: WorkerDeps = {
        ...deps,
        logger: deps.logger.child({
          runId: data.runId,
          node: data.node,
          attempt: job.attemptsMade + 1,
        }),
      };
      try {
        return await executeNode(scoped, data, { lastAttempt });
      } catch (error) {
        scoped.logger.warn(
          { err: error },
          'step failed for an infrastructure reason',
        );
        if (!lastAttempt) throw error;
        await failNode(scoped, data, error);
        return 'error';
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // Only when given: an explicit undefined would replace BullMQ's default.
      ...(options.lockDurationMs === undefined
        ? {}
        : { lockDuration: options.lockDurationMs }),
      ...(options.stalledIntervalMs === undefined
        ? {}
        : { stalledInterval: options.stalledIntervalMs }),
      autorun: true,
    },
  );
  worker.on('failed', (job, error) => {
    if (!job) return;
    const exhausted = job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!exhausted && !/stalled/i.test(error.message)) return;
    const data = StepJob.safeParse(job.data);
    if (data.success) {
      failNode(deps, data.data, error).catch((failure: unknown) =>
        deps.logger.error({ err: failure }, 'could not record a failed step'),
      );
    }
  });
  worker.on('error', (error) =>
    deps.logger.error({ err: error }, 'worker error'),
  );
  return worker;
}

async function failNode(
  deps: WorkerDeps,
  job: StepJob,
  error: unknown,
): Promise<void> {
  const run = await deps.runs.getRun(job.runId);
  const node = run?.nodes.find((item) => item.name === job.node);
  if (!run || !node || node.attempt !== job.attempt) return;
  if (node.status !== 'queued' && node.status !== 'started') return;
  await failNodeForInfrastructure(deps, {
    run,
    job,
    executionId: node.executionId,
    error,
  });
}
