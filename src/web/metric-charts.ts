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

export function renderMetricCharts(
  items: readonly ChartSource[],
  options: { id: string },
): SafeHtml {
  const charts = buildCharts(items);
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
