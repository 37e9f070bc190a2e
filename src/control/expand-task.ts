/**
 * A task node's job: the worker that takes it creates the task's first
 * batch of children (all of them but for `bayesian_tpe`) in one
 * compare-and-set with the task node starting, then queues the first
 * ones. The children's values: the task's variants over what the node
 * receives (edges, pipeline parameters, the run), expanded by the task's
 * type. A task that can't be expanded (a bad range, too many children)
 * fails with the reason; one with no children completes at once.
 *
 * Safe to run again for the same job: a task already expanded is not
 * expanded twice, and its queued children are queued again (their jobs
 * dedupe), in case the first worker died before queueing them.
 */
import type { Task } from '../config/config-model.js';
import type { ExecutionRecord } from '../model/execution.js';
import type { TaskExpansionResult } from '../store/task-store.js';
import type { RunNodeState, RunRecord } from '../model/run.js';
import { nodeTransition } from '../orchestrator/node-machine.js';
import { resolveNodeValues } from '../orchestrator/resolve-node-values.js';
import type { RunGraphNode } from '../orchestrator/run-graph.js';
import { CLAIMABLE_RUN_STATUSES } from '../orchestrator/run-machine.js';
import { planTaskBatch } from '../orchestrator/task/plan-task-batch.js';
import { proposeTaskBatch } from '../orchestrator/task/propose-task-batch.js';
import { concurrencyOf } from '../orchestrator/task/task-policy.js';
import { taskVariantsOf } from '../orchestrator/task/task-variants-of.js';
import { applyNodeEvent } from './apply-node-event.js';
import { nowIso, type ControlDeps } from './control-deps.js';
import { enqueueNodes } from './enqueue-nodes.js';
import { stepForNode, type RunPlan } from './load-run-plan.js';
import { readTaskChildren } from './read-task-children.js';

export interface TaskJob {
  run: RunRecord;
  plan: RunPlan;
  /** The task node. */
  node: RunGraphNode;
  /** The job's node state when queued. */
  queued: RunNodeState;
  worker: string;
  /** Finished executions of the node's upstream nodes (for its edges). */
  upstream: ReadonlyMap<string, ExecutionRecord>;
}

export type TaskJobOutcome = 'complete' | 'error' | 'stale' | 'held';

export async function expandTask(
  deps: ControlDeps,
  job: TaskJob,
): Promise<TaskJobOutcome> {
  const { run, plan, node, queued } = job;
  const task = node.task;
  const now = nowIso(deps);
  const context = { runId: run.id, now };
  const step = stepForNode(plan, node);
  const fail = async (message: string) => {
    await applyNodeEvent(deps, {
      run,
      graph: plan.graph,
      from: queued,
      event: { type: 'settle-task', outcome: 'error', message },
      runIn: CLAIMABLE_RUN_STATUSES,
    });
    return 'error' as const;
  };
  if (!task || !step) {
    return fail(`task node "${node.name}" has no step to run`);
  }
  const values = resolveNodeValues({
    node,
    step,
    pipeline: plan.graph.pipeline,
    runParameters: run.parameters,
    upstream: job.upstream,
  });
  const variants = taskVariantsOf(task, step, values.parameters);
  const proposed = proposeTaskBatch({
    task,
    variants,
    seed: `${run.id}/${node.name}`,
    batch: 1,
    observations: [],
    created: 0,
  });
  if (!proposed.ok) {
    return fail(`task "${node.name}" can't run: ${proposed.message}`);
  }
  if (proposed.sets.length === 0) {
    await applyNodeEvent(deps, {
      run,
      graph: plan.graph,
      from: queued,
      event: {
        type: 'settle-task',
        outcome: 'complete',
        message: 'the task has no children (nothing to sweep)',
      },
      runIn: CLAIMABLE_RUN_STATUSES,
    });
    return 'complete';
  }
  const decided = nodeTransition(
    queued,
    { type: 'expand', worker: job.worker, generation: queued.generation },
    context,
  );
  if (!decided.applied) return 'stale';
  const result = await storeTaskBatch(deps, {
    run,
    graph: plan.graph,
    node,
    task,
    batch: 1,
    first: 1,
    sets: proposed.sets,
    from: queued,
    to: decided.node,
    context,
  });
  if (result.code === 'ok') return 'complete';
  if (result.code === 'run') {
    return result.status === 'waiting-approval' ? 'held' : 'stale';
  }
  if (result.code === 'moved' && result.node.status === 'started') {
    await requeueChildren(deps, run, node.name);
  }
  return 'stale';
}

/**
 * Plans batch `batch` of the task's children (numbered from `first`) and
 * stores it with the task node's move `from` → `to` in one script; once
 * stored, queues the children. Called by the first expansion and by each
 * later batch (advance-task.ts); what a refusal means is the caller's.
 */
export async function storeTaskBatch(
  deps: ControlDeps,
  options: {
    run: RunRecord;
    graph: RunPlan['graph'];
    node: RunGraphNode;
    task: Pick<Task, 'type' | 'maximumQueuedExecutions'>;
    batch: number;
    first: number;
    sets: ReadonlyArray<Record<string, unknown>>;
    from: RunNodeState;
    to: RunNodeState;
    context: { runId: string; now: string };
  },
): Promise<TaskExpansionResult> {
  const { run, node, task, context } = options;
  const batch = planTaskBatch({
    graph: options.graph,
    task: node.name,
    step: node.step ?? '',
    batch: options.batch,
    first: options.first,
    sets: options.sets,
    concurrency: concurrencyOf(task, options.sets.length),
    context,
  });
  const result = await deps.runs.expandTask({
    runId: run.id,
    at: context.now,
    from: options.from,
    to: options.to,
    runIn: CLAIMABLE_RUN_STATUSES,
    task: node.name,
    children: batch.children,
    join: batch.join,
  });
  if (result.code === 'ok') {
    await enqueueNodes(
      deps,
      run,
      batch.children.map((child) => child.state),
    );
  }
  return result;
}

/** Queues again the children a crashed worker may not have queued. */
export async function requeueChildren(
  deps: ControlDeps,
  run: RunRecord,
  task: string,
): Promise<void> {
  const children = await readTaskChildren(deps, { runId: run.id, task });
  await enqueueNodes(
    deps,
    run,
    children.flatMap((child) =>
      child.state?.status === 'queued' ? [child.state] : [],
    ),
  );
}
