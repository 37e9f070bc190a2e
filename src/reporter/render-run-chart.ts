/**
 * The chart image of a run against its base run, read from the stores:
 * what `GET /charts/<run>.svg` serves. Null when either run is unknown.
 */
import type { RunRecord } from '../model/run.js';
import type { ConfigStore, ExecutionStore, RunStore } from '../store/index.js';
import { loadMetricCurves } from './load-metric-curves.js';
import { readReportItem } from './read-report-item.js';
import { renderCurvesSvg } from './render-curves-svg.js';

export interface RenderRunChartDeps {
  runs: Pick<RunStore, 'getRun'>;
  executions: Pick<ExecutionStore, 'readMetrics'>;
  configs: Pick<ConfigStore, 'load'>;
}

export interface RunChart {
  svg: string;
  /** Both runs are finished: the image will not change. */
  final: boolean;
}

const FINISHED = new Set(['complete', 'error', 'stopped', 'cancelled']);

export async function renderRunChart(
  deps: RenderRunChartDeps,
  runId: string,
  baseId: string | undefined,
): Promise<RunChart | null> {
  const run = await deps.runs.getRun(runId);
  if (!run) return null;
  let base: RunRecord | undefined;
  if (baseId !== undefined) {
    base = (await deps.runs.getRun(baseId)) ?? undefined;
    if (!base) return null;
  }
  const report = await readReportItem(deps.configs, run);
  const curves = await loadMetricCurves({
    executions: deps.executions,
    run,
    base,
    reported: report?.metrics.map((metric) => metric.name),
  });
  const svg = renderCurvesSvg({
    curves,
    headLabel: `${run.trigger?.pullRequest ? `PR #${run.trigger.pullRequest}` : run.name} @ ${run.commit.slice(0, 7)} (run #${run.counter})`,
    ...(base
      ? {
          baseLabel: `${(base.ref ?? 'base').replace(/^refs\/heads\//, '')} @ ${base.commit.slice(0, 7)} (run #${base.counter})`,
        }
      : {}),
  });
  return {
    svg,
    final: FINISHED.has(run.status) && (!base || FINISHED.has(base.status)),
  };
}
