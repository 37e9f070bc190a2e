/**
 * Puts step jobs on the queue for the nodes of a run that are queued. Safe
 * to call again with the same nodes (job ids are per node and generation),
 * which is how a run is repaired after a crash between a change and its
 * enqueue.
 */
import type { RunNodeState, RunRecord } from '../model/run.js';
import { DEFAULT_STEP_QUEUE, type StepJob } from '../queue/step-jobs.js';
import type { ControlDeps } from './control-deps.js';

/** The queue a run's steps go to (a `kiln run` has its own). */
export function queueOf(run: Pick<RunRecord, 'queue'>): string {
  return run.queue ?? DEFAULT_STEP_QUEUE;
}

export async function enqueueNodes(
  deps: Pick<ControlDeps, 'steps'>,
  run: Pick<RunRecord, 'id' | 'queue'>,
  nodes: readonly RunNodeState[],
  upstream?: Record<string, string>,
): Promise<void> {
  const jobs: StepJob[] = [];
  for (const node of nodes) {
    if (node.status !== 'queued' || node.generation < 1) continue;
    jobs.push({
      runId: run.id,
      node: node.name,
      nodeIndex: node.index,
      generation: node.generation,
      attempt: node.attempt,
      ...(upstream ? { upstream } : {}),
    });
  }
  await deps.steps.enqueue(queueOf(run), jobs);
}
