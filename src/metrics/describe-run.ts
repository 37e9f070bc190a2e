/**
 * What a run's commit status says: GitHub's state and a description of at
 * most 140 characters. Pending descriptions stay the same while a run
 * moves through its steps, so a run costs one pending and one final write.
 * Pure.
 */
import type { Finding } from '../config/finding.js';
import type { RunRecord } from '../model/run.js';
import {
  describeRegression,
  formatDelta,
  formatMetric,
  type MetricComparison,
} from './compare-metrics.js';

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface RunDescription {
  state: CommitState;
  /** ≤ 140 characters. */
  description: string;
}

export interface DescribeRunOptions {
  run: RunRecord;
  /** The compared metrics; the first one headlines a success. */
  comparisons?: readonly MetricComparison[];
  /** `main`: the base branch the comparisons are against. */
  baseLabel?: string;
}

export const MAX_DESCRIPTION = 140;

export function describeRun(options: DescribeRunOptions): RunDescription {
  const { run, comparisons = [], baseLabel = 'base' } = options;
  const steps = run.nodes.length;
  switch (run.status) {
    case 'waiting-approval':
      return make('pending', 'waiting for approval…');
    case 'created':
    case 'queued':
    case 'running':
      return make('pending', `in progress · ${plural(steps, 'step')}`);
    case 'complete': {
      const regression = comparisons.find((item) => item.regression);
      if (regression) {
        return make('failure', describeRegression(regression, baseLabel));
      }
      const parts = [headline(comparisons[0], baseLabel), stepsDone(run)];
      parts.push(formatDuration(run));
      return make('success', parts.filter(Boolean).join(' · '));
    }
    case 'error':
      return describeError(run);
    case 'stopped':
      return make('error', `stopped · ${stepsDone(run)}`);
    case 'cancelled':
      return make(
        'error',
        run.supersededBy
          ? supersededText(run.reason, run.supersededBy)
          : `cancelled${run.reason ? `: ${run.reason}` : ''}`,
      );
  }
  return make('error', `unknown run status ${String(run.status)}`);
}

function describeError(run: RunRecord): RunDescription {
  const finding = firstErrorFinding(run.findings);
  if (finding) {
    const where =
      finding.line > 0 ? `${finding.file}:${finding.line}` : finding.file;
    return make('failure', `${where} ${finding.message}`);
  }
  const failed = run.nodes.find((node) => node.status === 'error');
  if (failed) {
    const why = failed.message ? `: ${failed.message}` : '';
    return make('failure', `${failed.name} failed${why} · ${stepsDone(run)}`);
  }
  return make('error', run.reason ?? 'kiln could not run this pipeline');
}

/** The first finding of severity `error`, read leniently (stored data). */
export function firstErrorFinding(findings: unknown): Finding | undefined {
  if (!Array.isArray(findings)) return undefined;
  for (const item of findings as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const finding = item as Partial<Finding>;
    if (finding.severity !== 'error' || typeof finding.message !== 'string')
      continue;
    return {
      file: typeof finding.file === 'string' ? finding.file : 'kiln.yaml',
      line: typeof finding.line === 'number' ? finding.line : 0,
      column: typeof finding.column === 'number' ? finding.column : 0,
      path: typeof finding.path === 'string' ? finding.path : '',
      severity: 'error',
      message: finding.message,
    };
  }
  return undefined;
}

function headline(
  comparison: MetricComparison | undefined,
  baseLabel: string,
): string {
  if (!comparison || comparison.head === undefined) return '';
  const value = `${comparison.name} ${formatMetric(comparison.head)}`;
  if (comparison.delta === undefined) return value;
  return `${value} (${formatDelta(comparison.delta)} vs ${baseLabel})`;
}

function stepsDone(run: RunRecord): string {
  const done = run.nodes.filter(
    (node) => node.status === 'complete' || node.status === 'reused',
  ).length;
  return `${done}/${plural(run.nodes.length, 'step')}`;
}

/** `2m14s`, `45s`, `1h02m`; empty when the run has no end. */
export function formatDuration(run: RunRecord): string {
  const start = Date.parse(run.startedAt ?? run.createdAt);
  const end = Date.parse(run.endedAt ?? '');
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start)
    return '';
  return formatSeconds(Math.round((end - start) / 1000));
}

export function formatSeconds(total: number): string {
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(seconds).padStart(2, '0')}s`;
  return `${seconds}s`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * The reason the superseding push gave names its commit; `supersededBy` is
 * the newer run's id, which means nothing on GitHub.
 */
function supersededText(reason: string | undefined, by: string): string {
  return reason?.startsWith('cancelled — superseded by ')
    ? reason
    : `cancelled — superseded by ${shortId(by)}`;
}

function shortId(id: string): string {
  return /^[0-9a-f]{40}$/.test(id) ? id.slice(0, 7) : id;
}

function make(state: CommitState, description: string): RunDescription {
  return { state, description: truncate(description.replace(/\s+/g, ' ')) };
}

/** GitHub refuses a description over 140 characters (422). */
export function truncate(text: string, max = MAX_DESCRIPTION): string {
  if (text.length <= max) return text;
  let kept = '';
  // Whole code points only, counted in UTF-16 units like GitHub does.
  for (const char of text) {
    if (kept.length + char.length > max - 1) break;
    kept += char;
  }
  return `${kept}…`;
}
