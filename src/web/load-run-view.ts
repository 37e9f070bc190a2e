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
import type { DagNode } from './render-dag-svg.js';

export interface FocusItem {
  node: RunNodeState;
  execution?: ExecutionRecord;
  lines: LogLine[];
}

export interface RunView {
  run: RunRecord;
  graph: DagNode[];
  /** Every attempt of this run's nodes, oldest first. */
  attempts: ExecutionRecord[];
  /** The execution behind each node (its current attempt, or reused). */
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
  const [graph, attempts, comparison, commits, rerunOf] = await Promise.all([
    loadRunPlan(deps.control.configs, run).then(
      (plan) =>
        plan.graph.nodes.map((node) => ({
          name: node.name,
          upstream: node.upstream,
        })),
      () => run.nodes.map((node) => ({ name: node.name, upstream: [] })),
    ),
    executions
      .listExecutions({ runId: run.id, limit: 1000 })
      .then((list) => list.reverse()),
    compareWithBase({ ...deps.control, history: deps.history }, run),
    describeCommitsOf(deps, [run]),
    run.trigger?.rerunOf
      ? runs.getRunHeader(run.trigger.rerunOf).catch(() => null)
      : null,
  ]);
  const current = new Map<string, ExecutionRecord>();
  for (const record of comparison.executions) {
    if (record.node) current.set(record.node, record);
  }
  for (const node of run.nodes) {
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
    ...run.nodes.filter((node) => node.status === 'error'),
    ...run.nodes.filter((node) => node.status === 'started'),
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
    run,
    graph,
    attempts,
    current,
    metrics,
    focus,
    comparison,
    ...(commits.get(run.commit) ? { commit: commits.get(run.commit) } : {}),
    ...(rerunOf ? { rerunOf } : {}),
  };
}
