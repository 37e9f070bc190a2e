/**
 * What the run page shows, read from the stores in one go: the graph, every
 * attempt of every node, the executions behind the nodes (reused ones from
 * earlier runs included), their metric events, the last lines of failed and
 * running steps, the comparison with the base (the same computation as the
 * pull-request comment) and the commit's subject.
 */
import {
  compareWithBase,
  type RunComparison,
} from '../control/compare-with-base.js';
import { loadRunPlan } from '../control/load-run-plan.js';
import type { CommitInfo } from '../git/describe-commits.js';
import type { ServerDeps } from '../http/server-deps.js';
import type { ExecutionRecord, MetricsEvent } from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';
import type { RunNodeState, RunRecord } from '../model/run.js';
import { describeCommitsOf } from './commit-info.js';
import { parseTaskNodeName } from '../orchestrator/task/task-children.js';
import type { DagNode } from './render-dag-svg.js';

export interface FocusItem {
  node: RunNodeState;
  execution?: ExecutionRecord;
  lines: LogLine[];
}

export interface RunView {
  /** The run; a task's children and joins are left out (see `tasks`). */
  run: RunRecord;
  graph: DagNode[];
  /** Task nodes: their children are on the task's own page. */
  tasks: string[];
  /** Every attempt of this run's nodes, oldest first. */
  attempts: ExecutionRecord[];
  /**
   * The execution behind each node (its current attempt, or reused; a task
   * node's best child).
   */
  current: Map<string, ExecutionRecord>;
  metrics: Map<string, MetricsEvent[]>;
  /** Failed nodes first, then running ones: what the page opens on. */
  focus: FocusItem[];
  comparison: RunComparison;
  commit?: CommitInfo;
  rerunOf?: RunRecord;
}

/** Last lines shown for a failed or running step. */
export const FOCUS_LINES = 25;

export async function loadRunView(
  deps: ServerDeps,
  run: RunRecord,
  options: { metrics: boolean },
): Promise<RunView> {
  const { executions, runs } = deps.control;
  const [plan, attempts, comparison, commits, rerunOf] = await Promise.all([
    loadRunPlan(deps.control.configs, run).catch(() => null),
    executions
      .listExecutions({ runId: run.id, limit: 1000 })
      .then((list) => list.reverse()),
    compareWithBase({ ...deps.control, history: deps.history }, run),
    describeCommitsOf(deps, [run]),
    run.trigger?.rerunOf
      ? runs.getRunHeader(run.trigger.rerunOf).catch(() => null)
      : null,
  ]);
  const graph = plan
    ? plan.graph.nodes.map((node) => ({
        name: node.name,
        upstream: node.upstream,
      }))
    : run.nodes.map((node) => ({ name: node.name, upstream: [] }));
  // A task's children are on its own page (a sweep may have thousands).
  const tasks = plan
    ? plan.graph.nodes
        .filter((node) => node.type === 'task')
        .map((node) => node.name)
    : [];
  const inTask = (name: string | undefined) => {
    const task = name ? parseTaskNodeName(name)?.task : undefined;
    return task !== undefined && tasks.includes(task);
  };
  const shown: RunRecord = {
    ...run,
    nodes: run.nodes.filter((node) => !inTask(node.name)),
  };
  const current = new Map<string, ExecutionRecord>();
  for (const record of comparison.executions) {
    if (record.node && !inTask(record.node)) current.set(record.node, record);
  }
  // comparison.run: a task node carries its best child's execution.
  for (const node of comparison.run.nodes) {
    const record = comparison.executions.find(
      (item) => item.id === node.executionId,
    );
    if (record) current.set(node.name, record);
  }
  const metrics = new Map<string, MetricsEvent[]>();
  if (options.metrics) {
    await Promise.all(
      [...current.values()].map(async (record) => {
        metrics.set(record.id, await executions.readMetrics(record.id));
      }),
    );
  }
  const wanted = [
    ...shown.nodes.filter((node) => node.status === 'error'),
    ...shown.nodes.filter((node) => node.status === 'started'),
  ];
  const focus = await Promise.all(
    wanted.map(async (node): Promise<FocusItem> => {
      const execution = current.get(node.name);
      const lines = node.executionId
        ? await executions.readLog(node.executionId, {
            beforeSeq: Number.POSITIVE_INFINITY,
            limit: FOCUS_LINES,
          })
        : [];
      return { node, ...(execution ? { execution } : {}), lines };
    }),
  );
  return {
    run: shown,
    graph,
    tasks,
    attempts: attempts.filter((record) => !inTask(record.node)),
    current,
    metrics,
    focus,
    comparison,
    ...(commits.get(run.commit) ? { commit: commits.get(run.commit) } : {}),
    ...(rerunOf ? { rerunOf } : {}),
  };
}
