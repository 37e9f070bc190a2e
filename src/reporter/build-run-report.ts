/**
 * Everything kiln says about one run on GitHub, computed from the stores:
 * the status, the comparison with the base branch and the PR comment body.
 * Reads only; the writers post it.
 */
import type { Report } from '../config/config-model.js';
import type { Finding } from '../config/finding.js';
import { locateStep } from '../config/locate-step.js';
import type { RunRecord } from '../model/run.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { ConfigStore, ExecutionStore, RunStore } from '../store/index.js';
import type { Redis } from 'ioredis';
import type { MetricComparison } from '../metrics/compare-metrics.js';
import { compareWithBase } from '../control/compare-with-base.js';
import type { CommitHistory } from '../control/find-base-run.js';
import { describeRun, type RunDescription } from '../metrics/describe-run.js';
import { chartUrl, createChartSigner } from '../control/chart-link.js';
import { loadMetricCurves } from '../control/load-metric-curves.js';
import { readRunConfig, type RunConfig } from '../control/read-report-item.js';
import { createChartKeyStore } from '../store/chart-key-store.js';
import { renderPrComment, runUrl } from './render-pr-comment.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';

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

export async function buildRunReport(
  deps: RunReportDeps,
  record: RunRecord,
): Promise<RunReport> {
  // The same computation the run page shows (control/compare-with-base);
  // a task node stands for its best child.
  const compared = await compareWithBase(deps, record);
  const { run, base, comparisons, findings, report } = compared;
  const config = await readRunConfig(deps.configs, run);
  const description = describeRun({ run, comparisons, baseLabel: base.label });
  const chart = await chartLink(deps, run, base.run, report);
  const body = renderPrComment({
    run,
    executions: compared.executions,
    parameters: compared.parameters,
    comparisons,
    base,
    findings,
    publicUrl: deps.publicUrl,
    chartUrl: chart,
    sweeps: compared.sweeps,
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
  if (!isFinalRunStatus(run.status)) return undefined;
  const curves = await loadMetricCurves({
    executions: deps.executions,
    run,
    base,
    reported: report?.metrics.map((metric) => metric.name),
  });
  if (curves.length === 0) return undefined;
  const signature = await createChartSigner(
    createChartKeyStore(deps.redis, deps.keys),
  ).sign(run.id, base?.id);
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
