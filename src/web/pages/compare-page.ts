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

export function renderComparePage(
  items: CompareItem[],
  recent: readonly ExecutionRecord[] = [],
): SafeHtml {
  if (items.length === 0) return renderPicker(recent);
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

/** Recent executions (any commit) with check boxes: pick, then compare. */
function renderPicker(recent: readonly ExecutionRecord[]): SafeHtml {
  return html`<form method="get" action="/compare" id="compare-picker">
    <p>Pick executions to compare (any commits), or give their ids.</p>
    <table class="executions">
      <thead>
        <tr>
          <th></th>
          <th>execution</th>
          <th>repository</th>
          <th>commit</th>
          <th>step</th>
          <th>status</th>
          <th>metrics</th>
        </tr>
      </thead>
      <tbody>
        ${recent.map(
          (record) =>
            html`<tr>
              <td><input type="checkbox" name="e" value="${record.id}" /></td>
              <td>#${record.counter} <code>${record.id}</code></td>
              <td>${record.repository}</td>
              <td><code>${record.commit.slice(0, 12)}</code></td>
              <td>${record.node ?? record.step}</td>
              <td>${record.status}</td>
              <td>
                ${Object.entries(record.metrics)
                  .slice(0, 3)
                  .map(([key, value]) => `${key}=${String(value)} `)}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    <input name="e" placeholder="execution id" />
    <button>Compare</button>
  </form>`;
}
