/**
 * A task node as people look at it — the API, `kiln show`, the task page,
 * the pull-request report: its sweep settings, every child with its
 * parameters, metrics and state, counts by state, and the best child by
 * the task's goal (`orchestrator/task/task-goal.ts`). Reads every child
 * (and its execution), so it is for views, never for a child's change.
 */
import type { NodeStatus, RunRecord } from '../model/run.js';
import { stepForNode, loadRunPlan } from './load-run-plan.js';
import { onChildErrorOf } from '../orchestrator/task/task-policy.js';
import {
  bestOf,
  taskGoalOf,
  type TaskGoal,
} from '../orchestrator/task/task-goal.js';
import type { ControlDeps } from './control-deps.js';
import { readTaskChildren } from './read-task-children.js';

export interface TaskChildRow {
  name: string;
  number: number;
  status: NodeStatus;
  parameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
  executionId?: string;
  /** The execution's per-repository counter (#42). */
  counter?: number;
  startedAt?: string;
  endedAt?: string;
  message?: string;
}

export interface TaskSummary {
  runId: string;
  node: string;
  /** The blueprint (`task:`) the node runs, when it names one. */
  task?: string;
  type: string;
  step: string;
  status: NodeStatus;
  message?: string;
  onChildError: string;
  stopCondition?: string;
  maximumQueuedExecutions?: number;
  executionCount?: number;
  executionBatchSize?: number;
  goal?: TaskGoal;
  /** Parameters that vary between children, in first-seen order. */
  parameters: string[];
  /** Metric names the children printed, in first-seen order. */
  metrics: string[];
  counts: Partial<Record<NodeStatus, number>>;
  best?: { name: string; value: number };
  children: TaskChildRow[];
}

/** Task nodes of a run, in graph order (none for a run without tasks). */
export async function taskNodesOf(
  deps: Pick<ControlDeps, 'configs'>,
  run: RunRecord,
): Promise<string[]> {
  try {
    const plan = await loadRunPlan(deps.configs, run);
    return plan.graph.nodes
      .filter((node) => node.type === 'task')
      .map((node) => node.name);
  } catch {
    return [];
  }
}

export async function summarizeTask(
  deps: Pick<ControlDeps, 'runs' | 'executions' | 'configs'>,
  run: RunRecord,
  name: string,
): Promise<TaskSummary | null> {
  const plan = await loadRunPlan(deps.configs, run).catch(() => null);
  const node = plan?.graph.byName.get(name);
  if (!plan || !node || node.type !== 'task' || !node.task) return null;
  const task = node.task;
  const [state] = await deps.runs.getNodes(run.id, [name]);
  const children = await readTaskChildren(deps, {
    runId: run.id,
    task: name,
    executions: true,
  });
  const rows: TaskChildRow[] = children.map((child) => {
    const execution = child.execution ?? undefined;
    const row: TaskChildRow = {
      name: child.name,
      number: child.number,
      status: child.state?.status ?? 'pending',
      parameters: {
        ...(child.spec?.parameters ?? {}),
        ...(execution?.parameters ?? {}),
      },
      metrics: { ...(execution?.metrics ?? {}) },
    };
    if (child.state?.executionId) row.executionId = child.state.executionId;
    if (execution) row.counter = execution.counter;
    const startedAt = execution?.startedAt ?? child.state?.startedAt;
    const endedAt = execution?.endedAt ?? child.state?.endedAt;
    if (startedAt) row.startedAt = startedAt;
    if (endedAt) row.endedAt = endedAt;
    if (child.state?.message) row.message = child.state.message;
    return row;
  });
  const varied = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(
      children[row.number - 1]?.spec?.parameters ?? {},
    ))
      varied.add(key);
  }
  const metrics = new Set<string>();
  for (const row of rows)
    for (const key of Object.keys(row.metrics)) metrics.add(key);
  const goal = taskGoalOf(task, plan.loaded.config.reports, metrics);
  const finished = rows.filter(
    (row) => row.status === 'complete' || row.status === 'reused',
  );
  const best = goal
    ? bestOf(
        goal,
        finished.map((row) => ({ ...row, metadata: row.metrics })),
      )
    : undefined;
  const counts: Partial<Record<NodeStatus, number>> = {};
  for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
  const summary: TaskSummary = {
    runId: run.id,
    node: name,
    type: task.type,
    step: stepForNode(plan, node)?.name ?? node.step ?? '',
    status: state?.status ?? 'pending',
    onChildError: onChildErrorOf(task),
    parameters: [...varied],
    metrics: [...metrics],
    counts,
    children: rows,
  };
  if (node.node?.task !== undefined || plan.graph.kind === 'task') {
    summary.task = task.name;
  }
  if (state?.message) summary.message = state.message;
  if (task.stopCondition) summary.stopCondition = task.stopCondition;
  for (const key of [
    'maximumQueuedExecutions',
    'executionCount',
    'executionBatchSize',
  ] as const) {
    if (task[key] !== undefined) summary[key] = task[key];
  }
  if (goal) summary.goal = goal;
  if (best && goal) {
    summary.best = {
      name: best.name,
      value: best.metrics[goal.metric] as number,
    };
  }
  return summary;
}
