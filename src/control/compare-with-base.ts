/**
 * A run against its base, computed once for every place that shows it —
 * the pull-request comment and commit status (reporter) and the run page
 * (web): the base run, the metrics the `report` item names with their
 * deltas and verdicts, the gate's decision and the parameters that
 * differ. A task node stands for its best child, in the run and in its
 * base (read-sweeps.ts). Reads only.
 */
import type { Report } from '../config/config-model.js';
import type { Finding } from '../config/finding.js';
import { loadConfig } from '../config/load-config.js';
import {
  compareMetrics,
  type MetricComparison,
  type MetricValue,
} from '../metrics/compare-metrics.js';
import type { ExecutionRecord } from '../model/execution.js';
import type { RunRecord } from '../model/run.js';
import type { ConfigStore, ExecutionStore, RunStore } from '../store/index.js';
import { findBaseRun, type CommitHistory } from './find-base-run.js';
import { loadRunPlan } from './load-run-plan.js';
import {
  readSweeps,
  viewByBestChild,
  type SweepResult,
} from './read-sweeps.js';

export interface CompareWithBaseDeps {
  configs: ConfigStore;
  runs: RunStore;
  executions: ExecutionStore;
  history?: CommitHistory;
}

export interface BaseInfo {
  /** `main` */
  label: string;
  /** The merge base (or base SHA) the baseline had to be at or before. */
  mergeBase?: string;
  /** The baseline run; absent when there is none. */
  run?: RunRecord;
  parameters?: Record<string, unknown>;
}

export interface ParameterDifference {
  name: string;
  base: unknown;
  head: unknown;
}

/**
 * What the gate (`fail-if-regresses-by` of the `report` item) says:
 * `failed` when a metric regressed beyond what is allowed.
 */
export type GateVerdict =
  'passed' | 'failed' | 'no-baseline' | 'not-applicable';

export interface RunComparison {
  /** The run as compared: graph nodes only, a task node as its best child. */
  run: RunRecord;
  base: BaseInfo;
  /** The executions behind the run's nodes (reused ones included). */
  executions: ExecutionRecord[];
  /** The values the run's steps ran with, `node.parameter` for pipelines. */
  parameters: Record<string, unknown>;
  comparisons: MetricComparison[];
  differingParameters: ParameterDifference[];
  gate: GateVerdict;
  findings: Finding[];
  report?: Report;
  /** The run's tasks and the base run's. */
  sweeps: { head: SweepResult[]; base?: SweepResult[] };
}

export async function compareWithBase(
  deps: CompareWithBaseDeps,
  record: RunRecord,
): Promise<RunComparison> {
  const sweeps = await readSweeps(deps, record);
  const run = viewByBestChild(record, sweeps);
  const report = await readReportItem(deps.configs, run);
  const executions = await loadNodeExecutions(deps.executions, run);
  const head = pickMetrics(run, executions, report);
  const base: BaseInfo = run.trigger?.pullRequest
    ? await findBaseRun({ runs: deps.runs, run, history: deps.history })
    : { label: 'base' };
  let baseMetrics: Record<string, MetricValue> | undefined;
  let baseSweeps: SweepResult[] | undefined;
  if (base.run) {
    baseSweeps = await readSweeps(deps, base.run);
    base.run = viewByBestChild(base.run, baseSweeps);
    const baseExecutions = await loadNodeExecutions(deps.executions, base.run);
    baseMetrics = pickMetrics(base.run, baseExecutions, report);
    base.parameters = effectiveParameters(base.run, baseExecutions);
  }
  const comparisons = compareMetrics({ head, base: baseMetrics, report });
  const parameters = effectiveParameters(run, executions);
  const differingParameters = base.run
    ? differences(base.parameters ?? base.run.parameters, parameters)
    : [];
  const gated = (report?.metrics ?? []).some(
    (metric) => metric.failIfRegressesBy !== undefined,
  );
  const gate: GateVerdict = !run.trigger?.pullRequest
    ? 'not-applicable'
    : !base.run
      ? 'no-baseline'
      : comparisons.some((item) => item.regression)
        ? 'failed'
        : gated
          ? 'passed'
          : 'not-applicable';
  return {
    run,
    base,
    executions,
    parameters,
    comparisons,
    differingParameters,
    gate,
    findings: readFindings(run.findings),
    ...(report ? { report } : {}),
    sweeps: { head: sweeps, ...(baseSweeps ? { base: baseSweeps } : {}) },
  };
}

/** Parameters whose values differ (by their JSON), sorted by name. */
export function differences(
  base: Record<string, unknown>,
  head: Record<string, unknown>,
): ParameterDifference[] {
  const names = [
    ...new Set([...Object.keys(head), ...Object.keys(base)]),
  ].sort();
  return names
    .filter((name) => JSON.stringify(head[name]) !== JSON.stringify(base[name]))
    .map((name) => ({ name, base: base[name], head: head[name] }));
}

async function readReportItem(
  configs: ConfigStore,
  run: RunRecord,
): Promise<Report | undefined> {
  if (!run.config) return undefined;
  try {
    // Parsed once per configuration text (loadRunPlan's cache).
    return (await loadRunPlan(configs, run)).loaded.config.reports[0];
  } catch {
    try {
      const text = await configs.load(run.config.key);
      if (text === null) return undefined;
      return loadConfig(text, { file: run.config.file }).config.reports[0];
    } catch {
      return undefined;
    }
  }
}

/**
 * The executions behind a run's nodes, reused ones included (a reused node
 * points at an execution of an earlier run).
 */
export async function loadNodeExecutions(
  store: ExecutionStore,
  run: RunRecord,
): Promise<ExecutionRecord[]> {
  const records = await Promise.all(
    run.nodes.map((node) =>
      node.executionId ? store.getExecution(node.executionId) : null,
    ),
  );
  return records.filter((record) => record !== null);
}

/**
 * The parameter values the run's steps actually ran with (defaults from the
 * YAML at its commit included), as `node.parameter` for pipelines — what a
 * reviewer needs to see when a branch changes a default.
 */
export function effectiveParameters(
  run: RunRecord,
  executions: readonly ExecutionRecord[],
): Record<string, unknown> {
  const byId = new Map(executions.map((item) => [item.id, item]));
  // The launch's own overrides (pipeline parameters included), then what
  // each step really ran with.
  const values: Record<string, unknown> = { ...run.parameters };
  for (const node of run.nodes) {
    const record = node.executionId ? byId.get(node.executionId) : undefined;
    if (!record) continue;
    for (const [name, value] of Object.entries(record.parameters)) {
      values[run.kind === 'pipeline' ? `${node.name}.${name}` : name] = value;
    }
  }
  return values;
}

/**
 * The metrics a report shows: with a `report` item, the last value of each
 * listed metric over the nodes in order; else every final metric of the
 * last node that has any.
 */
export function pickMetrics(
  run: RunRecord,
  executions: readonly ExecutionRecord[],
  report: Report | undefined,
): Record<string, MetricValue> {
  const byId = new Map(executions.map((item) => [item.id, item]));
  const perNode = run.nodes
    .map((node) =>
      node.executionId ? byId.get(node.executionId)?.metrics : undefined,
    )
    .filter(
      (metrics): metrics is Record<string, MetricValue> =>
        metrics !== undefined && Object.keys(metrics).length > 0,
    );
  if (report && report.metrics.length > 0) {
    const merged: Record<string, MetricValue> = {};
    for (const metrics of perNode) {
      for (const { name } of report.metrics) {
        if (Object.hasOwn(metrics, name)) merged[name] = metrics[name] ?? null;
      }
    }
    return merged;
  }
  return { ...(perNode.at(-1) ?? {}) };
}

function readFindings(stored: unknown): Finding[] {
  if (!Array.isArray(stored)) return [];
  return (stored as unknown[]).flatMap((item): Finding[] => {
    if (typeof item !== 'object' || item === null) return [];
    const value = item as Partial<Finding>;
    if (typeof value.message !== 'string') return [];
    return [
      {
        file: typeof value.file === 'string' ? value.file : 'kiln.yaml',
        line: typeof value.line === 'number' ? value.line : 0,
        column: typeof value.column === 'number' ? value.column : 0,
        path: typeof value.path === 'string' ? value.path : '',
        severity: value.severity === 'warning' ? 'warning' : 'error',
        message: value.message,
      },
    ];
  });
}
