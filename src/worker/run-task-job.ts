/**
 * The step jobs of a task that run no container: the task node's own job
 * (create its children, `control/expand-task.ts`) and a batch join's job
 * (the next batch or the task's end, `control/advance-task.ts`). They take
 * a worker slot for the few reads and writes they need.
 */
import { advanceTask } from '../control/advance-task.js';
import { expandTask, type TaskJob } from '../control/expand-task.js';
import type { ExecutionRecord } from '../model/execution.js';
import type { NodeOutcome } from './node-outcome.js';
import type { WorkerDeps } from './worker-deps.js';

export async function runTaskJob(
  deps: WorkerDeps,
  job: Omit<TaskJob, 'worker' | 'upstream'> & {
    upstream: () => Promise<Map<string, ExecutionRecord>>;
    /** The batch whose join this is; absent for the task node's job. */
    batch?: number;
  },
): Promise<NodeOutcome> {
  const upstream = await job.upstream();
  const taskJob: TaskJob = { ...job, worker: deps.workerId, upstream };
  const outcome =
    job.batch === undefined
      ? await expandTask(deps, taskJob)
      : await advanceTask(deps, { ...taskJob, batch: job.batch });
  return outcome;
}
