/**
 * Everything kiln says about one run on GitHub, computed from the stores:
 * the status, the comparison with the base branch and the PR comment body.
 * Reads only; the writers post it.
 */
import type { Finding } from '../config/finding.js';
import type { RunRecord } from '../model/run.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { ConfigStore, ExecutionStore, RunStore } from '../store/index.js';
import type { Redis } from 'ioredis';
import type { MetricComparison } from '../metrics/compare-metrics.js';
import { compareWithBase } from '../control/compare-with-base.js';
import type { CommitHistory } from '../control/find-base-run.js';
import { describeRun, type RunDescription } from '../metrics/describe-run.js';
import { renderPrComment, runUrl } from './render-pr-comment.js';

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
  /** The PR comment (also the check run's summary). */
  body: string;
}

export async function buildRunReport(
  deps: RunReportDeps,
  record: RunRecord,
): Promise<RunReport> {
  // The same computation the run page shows (control/compare-with-base);
  // a task node stands for its best child.
  const compared = await compareWithBase(deps, record);
  const { run, base, comparisons, findings } = compared;
  const description = describeRun({ run, comparisons, baseLabel: base.label });
  const body = renderPrComment({
    run,
    executions: compared.executions,
    parameters: compared.parameters,
    comparisons,
    base,
    findings,
    publicUrl: deps.publicUrl,
    sweeps: compared.sweeps,
  });
  return {
    run: record,
    context: statusContext(run),
    description,
    targetUrl: runUrl(deps.publicUrl, run.id),
    comparisons,
    findings,
    body,
  };
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
