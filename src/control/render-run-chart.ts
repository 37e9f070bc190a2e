/**
 * The chart image of a run against its base run, read from the stores:
 * what `GET /charts/<run>.svg` serves. Null when either run is unknown. A
 * task stands for its best child, as in the comment the image is part of.
 */
import type { ControlDeps } from './control-deps.js';
import type { RunRecord } from '../model/run.js';
import { loadMetricCurves } from './load-metric-curves.js';
import { readReportItem } from './read-report-item.js';
import { renderCurvesSvg } from './render-curves-svg.js';
import { readSweeps, viewByBestChild } from './read-sweeps.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';

export type RenderRunChartDeps = Pick<
  ControlDeps,
  'runs' | 'executions' | 'configs'
>;

export interface RunChart {
  svg: string;
  /** Both runs are finished: the image will not change. */
  final: boolean;
}

export async function renderRunChart(
  deps: RenderRunChartDeps,
  runId: string,
  baseId: string | undefined,
): Promise<RunChart | null> {
  const record = await deps.runs.getRun(runId);
  if (!record) return null;
  const run = viewByBestChild(record, await readSweeps(deps, record));
  let base: RunRecord | undefined;
  if (baseId !== undefined) {
    const baseRecord = await deps.runs.getRun(baseId);
    if (!baseRecord) return null;
    base = viewByBestChild(baseRecord, await readSweeps(deps, baseRecord));
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
    final:
      isFinalRunStatus(run.status) && (!base || isFinalRunStatus(base.status)),
  };
}
