/**
 * Chart data on a page: one chart per numeric metric (the series come from
 * `metrics/metric-series.ts`). The client script draws it with uPlot.
 */
import type { ChartSeries } from '../metrics/metric-series.js';
import { html, jsonForScript, type SafeHtml } from './html.js';

export {
  metricNames,
  seriesOf,
  xKeyOf,
  type ChartSeries,
} from '../metrics/metric-series.js';

export interface ChartData {
  title: string;
  xLabel: string;
  series: ChartSeries[];
}

/** A chart container plus its data block; `key` names the uPlot instance. */
export function renderChart(key: string, data: ChartData): SafeHtml {
  const id = `chart-data-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return html`<div class="chart" data-chart="${key}" data-source="${id}"></div>
    <script type="application/json" id="${id}">
      ${jsonForScript(data)}
    </script>`;
}
