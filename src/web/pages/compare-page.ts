/**
 * Executions side by side (across commits): overlaid metric curves,
 * parameters with differences marked, final metrics.
 */
import type { ExecutionRecord, MetricsEvent } from '../../model/execution.js';
import { html, type SafeHtml } from '../html.js';
import { metricNames, renderChart, seriesOf } from '../metric-charts.js';

export interface CompareItem {
  record: ExecutionRecord;
  events: MetricsEvent[];
}

export function renderComparePage(items: CompareItem[]): SafeHtml {
  if (items.length === 0) {
    return html`<form method="get" action="/compare">
      <p>Execution ids to compare:</p>
      <input name="e" placeholder="execution id" />
      <input name="e" placeholder="execution id" /> <button>Compare</button>
    </form>`;
  }
  const label = (record: ExecutionRecord) =>
    `#${record.counter} ${record.node ?? record.step} @ ${record.commit.slice(0, 7)}`;
  const metrics: string[] = [];
  for (const item of items) {
    for (const name of metricNames(item.events)) {
      if (!metrics.includes(name)) metrics.push(name);
    }
  }
  const parameterNames = unique(
    items.flatMap((item) => Object.keys(item.record.parameters)),
  );
  const finalNames = unique(
    items.flatMap((item) => Object.keys(item.record.metrics)),
  );
  return html`<table class="compare-parameters">
      <thead>
        <tr>
          <th>parameter</th>
          ${items.map((item) => html`<th><a href="/runs/${item.record.runId ?? ''}#execution-${item.record.id}">${label(item.record)}</a></th>`)}
        </tr>
      </thead>
      <tbody>
        ${parameterNames.map((name) => {
          const values = items.map((item) =>
            JSON.stringify(item.record.parameters[name] ?? null),
          );
          const differs = new Set(values).size > 1;
          return html`<tr
            class="${differs ? 'diff' : ''}"
            data-parameter="${name}"
            data-differs="${String(differs)}"
          >
            <th>${name}</th>
            ${values.map((value) => html`<td>${value}</td>`)}
          </tr>`;
        })}
      </tbody>
    </table>
    <table class="compare-metrics">
      <thead>
        <tr>
          <th>final metric</th>
          ${items.map((item) => html`<th>${label(item.record)}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${finalNames.map(
          (name) =>
            html`<tr>
              <th>${name}</th>
              ${items.map((item) => html`<td>${String(item.record.metrics[name] ?? '')}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>
    ${metrics.map((name) => renderChart(`compare:${name}`, { title: name, xLabel: 'step', series: items.map((item) => seriesOf(item.events, name, label(item.record))) }))}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
