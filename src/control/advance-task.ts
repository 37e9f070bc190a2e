/**
 * A batch join's job: every child of the batch has ended (or the task was
 * stopped early), and a worker decides what the task does next — its next
 * batch (a `bayesian_tpe` task, proposed from the finished children's
 * results, created in one compare-and-set with the join ending), or its
 * end: complete or error by `on-child-error`, which releases (or blocks)
 * the nodes after it like any node's end.
 *
 * Safe to run again: a join already handled is not handled twice (its
 * compare-and-set fails), and a next batch already created is queued again.
 */
import type { Observation } from '../orchestrator/task/propose-tpe-batch.js';
import { proposeTaskBatch } from '../orchestrator/task/propose-task-batch.js';
import {
  isTerminalNode,
  nodeTransition,
} from '../orchestrator/node-machine.js';
import { resolveNodeValues } from '../orchestrator/resolve-node-values.js';
import { CLAIMABLE_RUN_STATUSES } from '../orchestrator/run-machine.js';
import {
  decideTaskOutcome,
  onChildErrorOf,
  stopConditionMet,
  type ChildSummary,
} from '../orchestrator/task/task-policy.js';
import { lossOf, taskGoalOf } from '../orchestrator/task/task-goal.js';
import { taskVariantsOf } from '../orchestrator/task/task-variants-of.js';
import { applyNodeEvent } from './apply-node-event.js';
import { nowIso, type ControlDeps } from './control-deps.js';
import {
  requeueChildren,
  storeTaskBatch,
  type TaskJob,
  type TaskJobOutcome,
} from './expand-task.js';
import { stepForNode } from './load-run-plan.js';
import { readTaskChildren, type TaskChild } from './read-task-children.js';
import { stopTaskChildren } from './stop-task-children.js';

export async function advanceTask(
  deps: ControlDeps,
  job: TaskJob & { batch: number },
): Promise<TaskJobOutcome> {
  const { run, plan, node, queued } = job;
  const task = node.task;
  const [taskState, joinState] = await deps.runs.getNodes(run.id, [
    node.name,
    queued.name,
  ]);
  if (
    joinState?.status !== 'queued' ||
    joinState.generation !== queued.generation
  ) {
    // Handled already: its next batch may still need its jobs.
    if (joinState?.status === 'complete' && taskState?.status === 'started') {
      await requeueChildren(deps, run, node.name);
    }
    return 'stale';
  }
  const endJoin = async () => {
    const ended = await applyNodeEvent(deps, {
      run,
      graph: plan.graph,
      from: queued,
      event: {
        type: 'settle-task',
        outcome: 'complete',
        message: `batch ${job.batch} handled`,
      },
      runIn: CLAIMABLE_RUN_STATUSES,
    });
    return ended.applied ? ('complete' as const) : ('stale' as const);
  };
  if (!task || taskState?.status !== 'started') return endJoin();

  let children = await readTaskChildren(deps, {
    runId: run.id,
    task: node.name,
    executions: true,
  });
  let summaries = children.map(summaryOf);
  let stopped =
    (onChildErrorOf(task) === 'stop-all-and-error' &&
      summaries.some((child) => child.status === 'error')) ||
    (task.stopCondition !== undefined &&
      summaries.some((child) => {
        if (child.status !== 'complete' && child.status !== 'reused') {
          return false;
        }
        const met = stopConditionMet(task.stopCondition as string, child);
        return met.ok && met.value;
      }));

  // Only a child that stops the task releases the join before the others
  // ended: whatever is left is stopped here too (the worker that decided
  // the stop may have died before doing it).
  if (
    children.some(
      (child) => child.state !== null && !isTerminalNode(child.state.status),
    )
  ) {
    await stopTaskChildren(deps, {
      runId: run.id,
      task: node.name,
      reason: `task "${node.name}" was stopped (on-child-error or its stop-condition)`,
    });
    children = await readTaskChildren(deps, {
      runId: run.id,
      task: node.name,
      executions: true,
    });
    summaries = children.map(summaryOf);
    stopped = true;
  }

  // 1. Another batch (bayesian_tpe), unless the task was stopped.
  const step = stepForNode(plan, node);
  if (!stopped && step) {
    const values = resolveNodeValues({
      node,
      step,
      pipeline: plan.graph.pipeline,
      runParameters: run.parameters,
      upstream: job.upstream,
    });
    const variants = taskVariantsOf(task, step, values.parameters);
    const goal = taskGoalOf(task, plan.loaded.config.reports);
    const observations: Observation[] = [];
    for (const child of summaries) {
      const loss = goal ? lossOf(goal, child.metadata) : undefined;
      if (loss !== undefined) {
        observations.push({ values: child.parameters, loss });
      }
    }
    const proposed = proposeTaskBatch({
      task,
      variants,
      seed: `${run.id}/${node.name}`,
      batch: job.batch + 1,
      observations,
      created: children.length,
    });
    if (proposed.ok && proposed.sets.length > 0) {
      const now = nowIso(deps);
      const context = { runId: run.id, now };
      const ended = nodeTransition(
        queued,
        {
          type: 'settle-task',
          outcome: 'complete',
          message: `batch ${job.batch} handled; batch ${job.batch + 1} proposed`,
        },
        context,
      );
      if (!ended.applied) return 'stale';
      const result = await storeTaskBatch(deps, {
        run,
        graph: plan.graph,
        node,
        task,
        batch: job.batch + 1,
        first: children.length + 1,
        sets: proposed.sets,
        from: queued,
        to: ended.node,
        context,
      });
      if (result.code === 'ok') return 'complete';
      if (result.code === 'moved' && result.node.status === 'complete') {
        await requeueChildren(deps, run, node.name);
      }
      return result.code === 'run' && result.status === 'waiting-approval'
        ? 'held'
        : 'stale';
    }
  }

  // 2. The task's end, then the join's (a failed task may wind the run
  // down, join included: that is the task's end too).
  const outcome = decideTaskOutcome(task, summaries);
  const settled = await applyNodeEvent(deps, {
    run,
    graph: plan.graph,
    from: taskState,
    event: {
      type: 'settle-task',
      outcome: outcome.status,
      message: outcome.message,
    },
    runIn: CLAIMABLE_RUN_STATUSES,
  });
  const ended = await endJoin();
  return settled.applied ? outcome.status : ended;
}

function summaryOf(child: TaskChild): ChildSummary {
  return {
    name: child.name,
    status: child.state?.status ?? 'pending',
    metadata: child.execution?.metrics ?? {},
    parameters: child.spec?.parameters ?? child.execution?.parameters ?? {},
  };
}
