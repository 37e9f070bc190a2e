/**
 * The BullMQ worker that runs step jobs. An attempt that fails for an
 * infrastructure reason is reported (the node goes back to queued) and
 * thrown, so BullMQ retries the job with backoff; the last attempt ends the
 * node in error instead. When BullMQ gives up on a job it could not keep
 * alive (its workers kept vanishing: stalled too often), the node is ended
 * with that reason, so a run never hangs on a job that will not come back.
 */
import { DelayedError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { applyNodeEvent } from '../control/apply-node-event.js';
import { loadRunPlan } from '../control/load-run-plan.js';
import { StepJob } from '../queue/step-jobs.js';
import { createAttemptGuard } from './attempt-guard.js';
import { createNodeCache, type NodeCache } from './node-cache.js';
import { executeNode } from './execute-node.js';
import type { NodeOutcome } from './node-outcome.js';
import type { WorkerDeps } from './worker-deps.js';

export interface StepWorkerOptions {
  queue: string;
  concurrency: number;
  connection: ConnectionOptions;
  /** BullMQ key prefix (`RedisKeys.bullPrefix`). */
  prefix: string;
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
  const cache = createNodeCache(deps);
  // Beats well inside the lock, so a live worker is seen as one.
  const beatMs = Math.min(
    5_000,
    Math.max(250, (options.lockDurationMs ?? 30_000) / 2),
  );
  const guard = createAttemptGuard({
    runs: deps.runs,
    stops: deps.stops,
    checkMs: deps.stopCheckMs,
    beats: deps.beats,
    beatMs,
  });
  const worker = new Worker<StepJob, NodeOutcome>(
    options.queue,
    async (job: Job<StepJob>, token?: string) => {
      const data = StepJob.parse(job.data);
      if (
        job.stalledCounter > 0 &&
        (await attemptStillRuns(deps, data, beatMs * 3))
      ) {
        // The lock lapsed, not the worker (Redis was away): look again
        // later instead of taking a healthy attempt over.
        await job.moveToDelayed(Date.now() + beatMs, token);
        throw new DelayedError();
      }
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // Every line logged while this step is handled names its run and node.
      const logger = deps.logger.child({ runId: data.runId, node: data.node });
      const outcome = await executeNode(
        { ...deps, logger },
        { cache, guard },
        data,
        { lastAttempt },
      );
      logger.info({ outcome }, 'step job done');
      return outcome;
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
    if (!data.success) return;
    endLostNode(deps, cache, data.data, error.message).catch(
      (failure: unknown) =>
        deps.logger.error({ err: failure }, 'could not record a lost step'),
    );
  });
  worker.on('error', (error) =>
    deps.logger.error({ err: error }, 'worker error'),
  );
  return worker;
}

/**
 * For a job handed out again after its lock lapsed: whether the node's
 * attempt may still be running somewhere (it beats, or stopped beating
 * less than `graceMs` ago).
 */
async function attemptStillRuns(
  deps: WorkerDeps,
  job: StepJob,
  graceMs: number,
): Promise<boolean> {
  if (!deps.beats) return false;
  const [node] = await deps.runs.getNodes(job.runId, [job.node]);
  if (node?.status !== 'started' || !node.executionId) return false;
  return (await deps.beats.judge(node.executionId, graceMs)) !== 'lost';
}

/** BullMQ gave up on the job: its node ends in error (if it still waits on it). */
async function endLostNode(
  deps: WorkerDeps,
  cache: NodeCache,
  job: StepJob,
  why: string,
): Promise<void> {
  const run = await cache.header(job.runId);
  if (!run) return;
  const [node] = await deps.runs.getNodes(run.id, [job.node]);
  if (!node) return;
  const { graph } = await loadRunPlan(deps.configs, run);
  await applyNodeEvent(deps, {
    run,
    graph,
    from: node,
    event: {
      type: 'lost',
      generation: job.generation,
      message: lostMessage(why),
    },
  });
}

/**
 * Why the node ended, in the user's terms. BullMQ fails a job that stalled
 * more than `maxStalledCount` (1) times: the workers holding it were lost
 * twice, so a step that keeps killing its workers is not tried forever.
 */
function lostMessage(why: string): string {
  return /stalled more than allowable limit/i.test(why)
    ? `worker lost twice while running this step: it is not tried again (${why})`
    : `the step's job was given up (${why})`;
}
