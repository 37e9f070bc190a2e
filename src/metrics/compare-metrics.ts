/**
 * Compares a run's metrics with the base branch's: the delta, whether it is
 * better or worse by the `report` item's goal, and whether a regression is
 * beyond what the team allows (`fail-if-regresses-by`). Pure.
 */
import type { Report } from '../config/config-model.js';

export type MetricValue = number | string | boolean | null;

export type Verdict = 'better' | 'worse' | 'same' | 'changed' | 'new' | 'gone';

export interface MetricComparison {
  name: string;
  base?: MetricValue;
  head?: MetricValue;
  /** head − base, when both are finite numbers. */
  delta?: number;
  goal?: 'maximize' | 'minimize';
  verdict: Verdict;
  /** Set when the metric got worse by more than allowed. */
  regression?: { by: number; allowed: number };
}

export interface CompareMetricsOptions {
  head: Record<string, MetricValue>;
  /** Absent when there is no base run. */
  base?: Record<string, MetricValue>;
  /** The first `report` item of the configuration, if any. */
  report?: Report;
}

/**
 * Metrics listed in `report` (in its order), else every metric of the head
 * (sorted by name).
 */
export function compareMetrics(
  options: CompareMetricsOptions,
): MetricComparison[] {
  const { head, base, report } = options;
  const listed = report?.metrics ?? [];
  const names =
    listed.length > 0
      ? listed.map((metric) => metric.name)
      : Object.keys(head).sort();
  return names.map((name) => {
    const spec = listed.find((metric) => metric.name === name);
    return compareOne({
      name,
      head: head[name],
      base: base?.[name],
      goal: spec?.goal,
      allowed: spec?.failIfRegressesBy,
    });
  });
}

interface CompareOneOptions {
  name: string;
  head: MetricValue | undefined;
  base: MetricValue | undefined;
  goal?: 'maximize' | 'minimize';
  allowed?: number;
}

function compareOne(options: CompareOneOptions): MetricComparison {
  const { name, head, base, goal, allowed } = options;
  const result: MetricComparison = { name, head, base, goal, verdict: 'same' };
  if (head === undefined) return { ...result, verdict: 'gone' };
  if (base === undefined) return { ...result, verdict: 'new' };
  if (!isFiniteNumber(head) || !isFiniteNumber(base)) {
    return { ...result, verdict: head === base ? 'same' : 'changed' };
  }
  const delta = roundNoise(head - base);
  result.delta = delta;
  if (delta === 0) return result;
  if (!goal) return { ...result, verdict: 'changed' };
  const improved = goal === 'maximize' ? delta > 0 : delta < 0;
  if (improved) return { ...result, verdict: 'better' };
  const by = Math.abs(delta);
  const worse: MetricComparison = { ...result, verdict: 'worse' };
  if (allowed !== undefined && by > allowed + 1e-12) {
    worse.regression = { by, allowed };
  }
  return worse;
}

/** `accuracy 0.91 is 0.05 below main (allowed 0.02)` */
export function describeRegression(
  comparison: MetricComparison,
  baseLabel: string,
): string {
  const by = comparison.regression?.by ?? Math.abs(comparison.delta ?? 0);
  const side = (comparison.delta ?? 0) < 0 ? 'below' : 'above';
  const allowed = comparison.regression
    ? ` (allowed ${formatMetric(comparison.regression.allowed)})`
    : '';
  return `${comparison.name} ${formatMetric(comparison.head)} is ${formatMetric(by)} ${side} ${baseLabel}${allowed}`;
}

export function regressionsOf(
  comparisons: readonly MetricComparison[],
): MetricComparison[] {
  return comparisons.filter((comparison) => comparison.regression);
}

/** Six significant digits, no float noise (`0.1 + 0.2` → `0.3`). */
export function formatMetric(value: MetricValue | undefined): string {
  if (value === undefined) return '—';
  if (value === null) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    return String(Number(value.toPrecision(6)));
  }
  return String(value);
}

/** `+0.012`, `-3`, `0` */
export function formatDelta(delta: number): string {
  const text = formatMetric(delta);
  return delta > 0 ? `+${text}` : text;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function roundNoise(value: number): number {
  return Number(value.toPrecision(12));
}
