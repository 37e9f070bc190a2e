/**
 * Metric curves on a page: a container with the executions' metric events
 * as JSON (the client draws them with uPlot and adds live points), and per
 * chart a figure with a caption and a text alternative — the same charts
 * the client draws (client/metric-series.js decides them for both).
 */
import type { MetricsEvent } from '../model/execution.js';
import { buildCharts, describeChart } from './client/metric-series.js';
import { html, jsonForScript, type SafeHtml } from './html.js';

export interface ChartSource {
  /** The execution id (live points are matched by it). */
  key: string;
  label: string;
  events: readonly MetricsEvent[];
}

/** Points per execution a page carries; longer series are thinned evenly. */
const MAX_POINTS = 5000;

export function renderMetricCharts(
  items: readonly ChartSource[],
  options: { id: string },
): SafeHtml {
  const thinned = items.map((item) => ({
    ...item,
    total: item.events.length,
    events: thin(item.events, MAX_POINTS),
  }));
  const charts = buildCharts(thinned);
  return html`<div
      class="charts"
      data-charts="${options.id}"
      data-source="${options.id}-data"
    >
      ${
        charts.length === 0
          ? html`<p class="muted" data-no-charts>
              No metric series yet: a metric printed more than once is drawn
              here.
            </p>`
          : ''
      }
      ${charts.map(
        (chart) =>
          html`<figure class="chart" data-chart="${chart.metric}">
            <figcaption>${chart.metric}</figcaption>
            <div
              class="chart-canvas"
              role="img"
              aria-label="${describeChart(chart)}"
            ></div>
            <p class="sr-only" data-chart-text>${describeChart(chart)}</p>
          </figure>`,
      )}
    </div>
    <script type="application/json" id="${options.id}-data">
      ${jsonForScript(
        items.map((item) => ({
          key: item.key,
          label: item.label,
          events: item.events,
        })),
      )}
    </script>`;
}

/** At most `max` events: every k-th, and always the last. */
function thin<T>(events: readonly T[], max: number): T[] {
  if (events.length <= max) return [...events];
  const step = Math.ceil(events.length / max);
  const kept = events.filter((_, index) => index % step === 0);
  const last = events[events.length - 1]!;
  if (kept[kept.length - 1] !== last) kept.push(last);
  return kept;
}
