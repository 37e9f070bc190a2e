/**
 * The main metric curves of a run next to its base run's: the metrics the
 * `report` item lists, when a step printed them more than once, then the
 * other metrics printed more than once (a training loop's loss and
 * accuracy), at most `MAX_CURVES`. Each curve comes from the last node
 * that printed the metric; the base curve from the base run's node of the
 * same name (else its last node that printed it).
 */
import type { RunRecord } from '../model/run.js';
import { metricNames, seriesOf, xKeyOf } from '../metrics/metric-series.js';
import type { ExecutionStore } from '../store/index.js';

export const MAX_CURVES = 4;

export interface MetricCurve {
  metric: string;
  /** The node that printed it in the PR's run. */
  node: string;
  /** `iteration`, `epoch`, `step`, or `line` (the event's position). */
  xLabel: string;
  head: Array<[number, number]>;
  base?: Array<[number, number]>;
}

interface NodeSeries {
  node: string;
  xLabel: string;
  points: Array<[number, number]>;
}

export interface LoadMetricCurvesOptions {
  executions: Pick<ExecutionStore, 'readMetrics'>;
  run: RunRecord;
  base?: RunRecord;
  /** The `report` item's metric names, in order. */
  reported?: readonly string[];
}

export async function loadMetricCurves(
  options: LoadMetricCurvesOptions,
): Promise<MetricCurve[]> {
  const head = await seriesByMetric(options.executions, options.run);
  const base = options.base
    ? await seriesByMetric(options.executions, options.base)
    : new Map<string, NodeSeries[]>();
  const curvy = (name: string) =>
    (head.get(name) ?? []).some((series) => series.points.length > 1);
  const reported = (options.reported ?? []).filter(curvy);
  const others = [...head.keys()].filter(
    (name) => curvy(name) && !reported.includes(name),
  );
  return [...reported, ...others].slice(0, MAX_CURVES).map((metric) => {
    const candidates = (head.get(metric) ?? []).filter(
      (series) => series.points.length > 1,
    );
    const chosen = candidates.at(-1) as NodeSeries;
    const baseSeries = base.get(metric) ?? [];
    const match =
      baseSeries.find((series) => series.node === chosen.node) ??
      baseSeries.at(-1);
    return {
      metric,
      node: chosen.node,
      xLabel: chosen.xLabel,
      head: chosen.points,
      ...(match ? { base: match.points } : {}),
    };
  });
}

/** Metric name → its series per node, nodes in run order. */
async function seriesByMetric(
  executions: Pick<ExecutionStore, 'readMetrics'>,
  run: RunRecord,
): Promise<Map<string, NodeSeries[]>> {
  const nodes = run.nodes.filter((node) => node.executionId);
  const events = await Promise.all(
    nodes.map((node) => executions.readMetrics(node.executionId ?? '')),
  );
  const byMetric = new Map<string, NodeSeries[]>();
  nodes.forEach((node, index) => {
    const nodeEvents = events[index] ?? [];
    const xLabel = xKeyOf(nodeEvents) ?? 'line';
    for (const name of metricNames(nodeEvents)) {
      const { points } = seriesOf(nodeEvents, name, name);
      if (points.length === 0) continue;
      const list = byMetric.get(name) ?? [];
      list.push({ node: node.name, xLabel, points });
      byMetric.set(name, list);
    }
  });
  return byMetric;
}
