/**
 * Moves a run forward after any change (created, a node finished, a
 * cancel): computes the next actions from the stored state and applies
 * them, under the run's lock so concurrent finishes are seen one at a time.
 * Idempotent: advancing an unchanged run changes nothing, and enqueueing is
 * deduplicated by deterministic job ids.
 */
import type { RunRecord } from '../model/run.js';
import { withLock } from '../queue/run-lock.js';
import { DEFAULT_STEP_QUEUE } from '../queue/step-jobs.js';
import { loadRunPlan, RunPlanError } from './load-run-plan.js';
import { isFinalRunStatus, nextRunActions } from './next-run-actions.js';
import type { OrchestratorDeps } from './orchestrator-deps.js';

export function runLockKey(prefix: string, runId: string): string {
  return `${prefix}:lock:run:${runId}`;
}

export async function advanceRun(
  deps: OrchestratorDeps,
  runId: string,
): Promise<RunRecord | null> {
  const run = await withLock(deps.redis, runLockKey(deps.prefix, runId), () =>
    advanceLocked(deps, runId),
  );
  deps.onRunChange?.(runId);
  return run;
}

async function advanceLocked(
  deps: OrchestratorDeps,
  runId: string,
): Promise<RunRecord | null> {
  const now = () => (deps.now?.() ?? new Date()).toISOString();
  let run = await deps.runs.getRun(runId);
  if (!run) return null;
  let plan;
  try {
    plan = await loadRunPlan(deps, run);
  } catch (error) {
    if (!(error instanceof RunPlanError)) throw error;
    if (isFinalRunStatus(run.status)) return run;
    return deps.runs.updateRun(runId, {
      status: 'error',
      reason: error.message,
      endedAt: now(),
    });
  }
  const actions = nextRunActions(plan.graph, run);
  const indexOf = (name: string) =>
    plan.graph.nodes.findIndex((node) => node.name === name);
  const queue = run.queue ?? DEFAULT_STEP_QUEUE;

  for (const { node, reason } of actions.skip) {
    run = await deps.runs.updateRunNode(runId, node, {
      status: 'skipped',
      message: reason,
      endedAt: now(),
    });
  }
  for (const { node, reason } of actions.stop) {
    const state = run.nodes.find((item) => item.name === node);
    // A started node is stopped by its worker, which watches the run.
    if (state?.status === 'queued') {
      run = await deps.runs.updateRunNode(runId, node, {
        status: 'stopped',
        message: reason,
        endedAt: now(),
      });
    }
  }
  const starts: Array<{ node: string; attempt: number }> = [];
  for (const node of actions.retry) {
    const attempt =
      (run.nodes.find((item) => item.name === node)?.attempt ?? 1) + 1;
    run = await deps.runs.updateRunNode(runId, node, {
      status: 'queued',
      attempt,
      executionId: undefined,
      message: `retrying (attempt ${attempt}) after an error`,
      endedAt: undefined,
    });
    starts.push({ node, attempt });
  }
  for (const node of actions.enqueue) {
    const attempt = run.nodes.find((item) => item.name === node)?.attempt ?? 1;
    run = await deps.runs.updateRunNode(runId, node, { status: 'queued' });
    starts.push({ node, attempt });
  }
  // Marked first, then enqueued: a crash in between leaves a queued node
  // that `reconcileRun` re-enqueues; the reverse order could lose the job.
  for (const start of starts) {
    await deps.queues.enqueue(queue, {
      runId,
      node: start.node,
      nodeIndex: indexOf(start.node),
      attempt: start.attempt,
    });
  }
  if (actions.finish && !isFinalRunStatus(run.status)) {
    run = await deps.runs.updateRun(runId, {
      status: actions.finish.status,
      reason: actions.finish.reason,
      endedAt: now(),
    });
  } else if (starts.length > 0 && run.status === 'created') {
    run = await deps.runs.updateRun(runId, { status: 'queued' });
  }
  return run;
}

/** Re-enqueues queued nodes of a run (after a crash between mark and add). */
export async function reconcileRun(
  deps: OrchestratorDeps,
  run: RunRecord,
): Promise<void> {
  if (isFinalRunStatus(run.status)) return;
  const plan = await loadRunPlan(deps, run);
  for (const node of run.nodes) {
    if (node.status !== 'queued') continue;
    await deps.queues.enqueue(run.queue ?? DEFAULT_STEP_QUEUE, {
      runId: run.id,
      node: node.name,
      nodeIndex: plan.graph.nodes.findIndex((item) => item.name === node.name),
      attempt: node.attempt,
    });
  }
}
