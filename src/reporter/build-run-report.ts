/**
 * Everything kiln says about one run on GitHub, computed from the stores:
 * the status, the comparison with the base branch and the PR comment body.
 * Reads only; the writers post it.
 */
import type { Report } from '../config/config-model.js';
import type { Finding } from '../config/finding.js';
import { locateStep } from '../config/locate-step.js';
import type { ExecutionRecord } from '../model/execution.js';
import type { RunRecord } from '../model/run.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { ConfigStore, ExecutionStore, RunStore } from '../store/index.js';
import type { Redis } from 'ioredis';
import {
  compareMetrics,
  type MetricComparison,
  type MetricValue,
} from './compare-metrics.js';
import { describeRun, type RunDescription } from './describe-run.js';
import { chartUrl, createChartSigner } from './chart-link.js';
import { findBaseRun, type CommitHistory } from './find-base-run.js';
import { loadMetricCurves } from './load-metric-curves.js';
import { readRunConfig, type RunConfig } from './read-report-item.js';
import { renderPrComment, runUrl, type BaseInfo } from './render-pr-comment.js';
import {
  readSweeps,
  viewByBestChild,
  type SweepResult,
} from './sweep-report.js';

export interface RunReportDeps {
  redis: Redis;
  keys: RedisKeys;
  configs: ConfigStore;
  runs: RunStore;
  executions: ExecutionStore;
  publicUrl?: string;
  history?: CommitHistory;
}

export interface RunReport {
  run: RunRecord;
  context: string;
  description: RunDescription;
  targetUrl?: string;
  comparisons: MetricComparison[];
  findings: Finding[];
  /** Failed nodes and where their step is written (check run annotations). */
  failedSteps: FailedStep[];
  /** The chart image of a finished PR run (with KILN_PUBLIC_URL). */
  chartUrl?: string;
  /** The PR comment (also the check run's summary). */
  body: string;
}

export interface FailedStep {
  node: string;
  file: string;
  /** 1-based; 0 when the step was not found in the file. */
  line: number;
  column: number;
  message: string;
}

const FINISHED = new Set(['complete', 'error', 'stopped', 'cancelled']);

export async function buildRunReport(
  deps: RunReportDeps,
  record: RunRecord,
): Promise<RunReport> {
  // A task node stands for its best child (sweep-report.ts).
  const sweeps = await readSweeps(deps, record);
  const run = viewByBestChild(record, sweeps);
  const config = await readRunConfig(deps.configs, run);
  const report = config?.report;
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
  const description = describeRun({ run, comparisons, baseLabel: base.label });
  const findings = readFindings(run.findings);
  const chart = await chartLink(deps, run, base.run, report);
  const body = renderPrComment({
    run,
    executions,
    parameters: effectiveParameters(run, executions),
    comparisons,
    base,
    findings,
    publicUrl: deps.publicUrl,
    chartUrl: chart,
    sweeps: { head: sweeps, ...(baseSweeps ? { base: baseSweeps } : {}) },
  });
  return {
    run: record,
    context: statusContext(run),
    description,
    targetUrl: runUrl(deps.publicUrl, run.id),
    comparisons,
    findings,
    failedSteps: locateFailedSteps(run, config),
    ...(chart ? { chartUrl: chart } : {}),
    body,
  };
}

/**
 * A finished PR run's metric curves against its base run, as an image
 * kiln serves (only when some metric was printed more than once).
 */
async function chartLink(
  deps: RunReportDeps,
  run: RunRecord,
  base: RunRecord | undefined,
  report: Report | undefined,
): Promise<string | undefined> {
  if (!deps.publicUrl || !run.trigger?.pullRequest) return undefined;
  if (!FINISHED.has(run.status)) return undefined;
  const curves = await loadMetricCurves({
    executions: deps.executions,
    run,
    base,
    reported: report?.metrics.map((metric) => metric.name),
  });
  if (curves.length === 0) return undefined;
  const signature = await createChartSigner(deps.redis, deps.keys).sign(
    run.id,
    base?.id,
  );
  return chartUrl({
    publicUrl: deps.publicUrl,
    runId: run.id,
    baseId: base?.id,
    signature,
  });
}

/** Each failed node, at the line of its step in the configuration. */
function locateFailedSteps(
  run: RunRecord,
  config: RunConfig | undefined,
): FailedStep[] {
  return run.nodes
    .filter((node) => node.status === 'error')
    .map((node) => {
      const at = config
        ? locateStep({
            text: config.text,
            file: config.file,
            step: node.step,
            pipeline: run.kind === 'pipeline' ? run.name : undefined,
            node: node.name,
          })
        : undefined;
      return {
        node: node.name,
        file: config?.file ?? run.config?.file ?? 'kiln.yaml',
        line: at?.line ?? 0,
        column: at?.column ?? 0,
        message: `${node.name} failed${node.message ? `: ${node.message}` : ''}`,
      };
    });
}

/**
 * `kiln/<pipeline or step>`, bounded (GitHub keeps contexts short). A
 * scheduled run on the commit a push already ran gets its own context
 * (`kiln/<name> (schedule)`), so it never overwrites the push's status.
 */
export function statusContext(
  run: Pick<RunRecord, 'name' | 'trigger'>,
): string {
  const suffix = run.trigger?.event === 'schedule' ? ' (schedule)' : '';
  return `kiln/${run.name.slice(0, 100)}${suffix}`;
}

/**
 * The executions behind a run's nodes, reused ones included (a reused node
 * points at an execution of an earlier run).
 */
async function loadNodeExecutions(
  store: ExecutionStore,
  run: RunRecord,
): Promise<ExecutionRecord[]> {
  const records = await Promise.all(
    run.nodes.map((node) =>
      node.executionId ? store.getExecution(node.executionId) : null,
    ),
  );
  return records.filter((record): record is ExecutionRecord => !!record);
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
