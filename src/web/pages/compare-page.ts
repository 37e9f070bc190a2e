/**
 * Compare: executions side by side; two runs aligned node by node (states,
 * parameters and metrics of the same node next to each other, with the
 * difference); any number of runs as a table with sortable parameter and
 * metric columns and a parallel-coordinates view of the same data. Metric
 * numbers are numbers; only series are drawn.
 */
import type { ExecutionRecord, MetricsEvent } from '../../model/execution.js';
import { formatDelta } from '../../metrics/compare-metrics.js';
import { html, jsonForScript, type SafeHtml } from '../html.js';
import type { CompareRun, CompareView } from '../load-compare-view.js';
import { renderMetricCharts } from '../metric-charts.js';
import {
  branchOf,
  executionLink,
  metricValue,
  statusBadge,
  timeTag,
} from '../render-parts.js';
import { isFinalRunStatus } from '../../orchestrator/run-machine.js';

export function renderComparePage(view: CompareView): SafeHtml {
  if (view.kind === 'pick') return renderPicker(view);
  // Runs still going: the page follows them and re-reads itself.
  const active = [
    ...new Set(
      view.kind === 'executions'
        ? view.items
            .filter((item) => !ENDED.includes(item.record.status))
            .flatMap((item) => (item.record.runId ? [item.record.runId] : []))
        : view.runs
            .filter((item) => !isFinalRunStatus(item.run.status))
            .map((item) => item.run.id),
    ),
  ];
  return html`<div
    data-region="compare"
    id="compare-region"
    data-live-compare="${active.join(',')}"
  >
    ${
      view.kind === 'executions'
        ? renderExecutions(view.items)
        : html`${view.runs.length === 2 ? renderAligned(view.runs[0]!, view.runs[1]!, view.events) : ''}
          ${renderRunTable(view.runs, view.title)}`
    }
  </div>`;
}

const ENDED = ['complete', 'error', 'stopped'];

function show(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return metricValue(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function renderExecutions(
  items: Array<{
    record: ExecutionRecord;
    events: MetricsEvent[];
  }>,
): SafeHtml {
  const label = (record: ExecutionRecord) =>
    `#${record.counter} ${record.node ?? record.step} @ ${record.commit.slice(0, 7)}`;
  const parameterNames = [
    ...new Set(items.flatMap((item) => Object.keys(item.record.parameters))),
  ];
  const metricNames = [
    ...new Set(items.flatMap((item) => Object.keys(item.record.metrics))),
  ];
  const row = (
    name: string,
    values: unknown[],
    kind: 'parameter' | 'metric',
  ) => {
    // A value missing on one side is not a difference of the others.
    const present = values.filter((value) => value !== undefined);
    const differs =
      new Set(present.map((value) => JSON.stringify(value))).size > 1;
    return html`<tr
      class="${differs ? 'diff' : ''}"
      data-${kind}="${name}"
      data-differs="${String(differs)}"
    >
      <th scope="row">${name}</th>
      ${values.map((value) => html`<td class="num">${show(value)}</td>`)}
    </tr>`;
  };
  return html`<div class="scroll">
      <table class="compare-executions">
        <caption class="sr-only">
          Parameters and final metrics of the executions
        </caption>
        <thead>
          <tr>
            <th scope="col"></th>
            ${items.map(
              (item) =>
                html`<th scope="col">
                  <a href="/executions/${item.record.id}"
                    >${label(item.record)}</a
                  >
                  ${statusBadge(item.record.status)}
                </th>`,
            )}
          </tr>
        </thead>
        <tbody>
          <tr>
            <th colspan="${items.length + 1}">parameters</th>
          </tr>
          ${parameterNames.map((name) =>
            row(
              name,
              items.map((item) => item.record.parameters[name]),
              'parameter',
            ),
          )}
          <tr>
            <th colspan="${items.length + 1}">final metrics</th>
          </tr>
          ${metricNames.map((name) =>
            row(
              name,
              items.map((item) => item.record.metrics[name]),
              'metric',
            ),
          )}
        </tbody>
      </table>
    </div>
    <h2>Metric curves</h2>
    ${renderMetricCharts(
      items.map((item) => ({
        key: item.record.id,
        label: label(item.record),
        events: item.events,
      })),
      { id: 'compare-charts' },
    )}`;
}

/** Two runs, node by node: what changed where. */
function renderAligned(
  a: CompareRun,
  b: CompareRun,
  events: Map<string, MetricsEvent[]>,
): SafeHtml {
  const names = [
    ...a.run.nodes.map((node) => node.name),
    ...b.run.nodes.map((node) => node.name),
  ].filter((name, index, all) => all.indexOf(name) === index);
  const recordOf = (side: CompareRun, name: string) => {
    const node = side.run.nodes.find((item) => item.name === name);
    return {
      node,
      record: side.executions.find((item) => item.id === node?.executionId),
    };
  };
  const head = (side: CompareRun) =>
    html`<a href="/runs/${side.run.id}"
        >#${side.run.counter} ${side.run.name}</a
      >
      <code>${side.run.commit.slice(0, 7)}</code>
      ${statusBadge(side.run.status)}`;
  return html`<section aria-labelledby="aligned-title">
    <h2 id="aligned-title">Run ${head(a)} against ${head(b)}</h2>
    <p class="muted">
      Aligned by node. Δ is the second run minus the first; rows that differ are
      marked.
    </p>
    <div class="scroll">
      <table class="aligned">
        <thead>
          <tr>
            <th scope="col">node</th>
            <th scope="col">what</th>
            <th scope="col">#${a.run.counter}</th>
            <th scope="col">#${b.run.counter}</th>
            <th scope="col">Δ</th>
          </tr>
        </thead>
        <tbody>
          ${names.map((name) => {
            const left = recordOf(a, name);
            const right = recordOf(b, name);
            const parameters = [
              ...new Set([
                ...Object.keys(left.record?.parameters ?? {}),
                ...Object.keys(right.record?.parameters ?? {}),
              ]),
            ];
            const metrics = [
              ...new Set([
                ...Object.keys(left.record?.metrics ?? {}),
                ...Object.keys(right.record?.metrics ?? {}),
              ]),
            ];
            const rows: SafeHtml[] = [
              html`<tr data-node="${name}" data-row="state">
                <th
                  scope="row"
                  rowspan="${1 + parameters.length + metrics.length}"
                >
                  ${name}
                </th>
                <td>state</td>
                <td>
                  ${left.node ? statusBadge(left.node.status) : '—'}
                  ${left.record ? executionLink(left.record) : ''}
                </td>
                <td>
                  ${right.node ? statusBadge(right.node.status) : '—'}
                  ${right.record ? executionLink(right.record) : ''}
                </td>
                <td></td>
              </tr>`,
            ];
            for (const parameter of parameters) {
              const x = left.record?.parameters[parameter];
              const y = right.record?.parameters[parameter];
              rows.push(
                html`<tr
                  data-node="${name}"
                  data-parameter="${parameter}"
                  data-differs="${String(!same(x, y))}"
                  class="${same(x, y) ? '' : 'diff'}"
                >
                  <td><code>${parameter}</code></td>
                  <td>${show(x)}</td>
                  <td>${show(y)}</td>
                  <td>${same(x, y) ? '' : 'changed'}</td>
                </tr>`,
              );
            }
            for (const metric of metrics) {
              const x = left.record?.metrics[metric];
              const y = right.record?.metrics[metric];
              const delta =
                typeof x === 'number' && typeof y === 'number'
                  ? formatDelta(Number((y - x).toPrecision(12)))
                  : same(x, y)
                    ? ''
                    : 'changed';
              rows.push(
                html`<tr
                  data-node="${name}"
                  data-metric="${metric}"
                  data-differs="${String(!same(x, y))}"
                  class="${same(x, y) ? '' : 'diff'}"
                >
                  <td>${metric}</td>
                  <td class="num">${show(x)}</td>
                  <td class="num">${show(y)}</td>
                  <td class="num">${delta}</td>
                </tr>`,
              );
            }
            return rows;
          })}
        </tbody>
      </table>
    </div>
    <h3>Curves</h3>
    ${renderMetricCharts(
      [a, b].flatMap((side) =>
        side.executions.map((record) => ({
          key: record.id,
          label: `#${side.run.counter} ${record.node ?? record.step}`,
          events: events.get(record.id) ?? [],
        })),
      ),
      { id: 'aligned-charts' },
    )}
  </section>`;
}

/** Many runs: sortable columns and parallel coordinates of the same data. */
function renderRunTable(runs: readonly CompareRun[], title: string): SafeHtml {
  const parameterNames = [
    ...new Set(runs.flatMap((item) => Object.keys(item.parameters))),
  ].sort();
  const metricNames = [
    ...new Set(runs.flatMap((item) => Object.keys(item.metrics))),
  ].sort();
  const varies = (pick: (item: CompareRun) => unknown) =>
    new Set(runs.map((item) => JSON.stringify(pick(item) ?? null))).size > 1;
  // Parameters that vary first: they are what a sweep compares.
  const parameters = [
    ...parameterNames.filter((name) => varies((item) => item.parameters[name])),
    ...parameterNames.filter(
      (name) => !varies((item) => item.parameters[name]),
    ),
  ];
  const columns = [
    ...parameters.map((name) => ({ kind: 'parameter' as const, name })),
    ...metricNames.map((name) => ({ kind: 'metric' as const, name })),
  ];
  const data = {
    runs: runs.map((item) => ({
      id: item.run.id,
      label: `#${item.run.counter}`,
      status: item.run.status,
      values: Object.fromEntries([
        ...parameters.map((name) => [
          `p:${name}`,
          item.parameters[name] ?? null,
        ]),
        ...metricNames.map((name) => [`m:${name}`, item.metrics[name] ?? null]),
      ]),
    })),
    // Only what varies between the runs draws a useful axis.
    columns: columns
      .filter((column) =>
        varies((item) =>
          column.kind === 'metric'
            ? item.metrics[column.name]
            : item.parameters[column.name],
        ),
      )
      .map((column) => ({
        key: `${column.kind === 'metric' ? 'm' : 'p'}:${column.name}`,
        label: column.name,
        kind: column.kind,
      })),
  };
  return html`<section aria-labelledby="table-title">
    <h2 id="table-title">${title}: ${runs.length} runs</h2>
    <div class="scroll">
      <table class="run-table" data-sortable>
        <caption class="sr-only">
          Parameters and final metrics of each run; select a column heading to
          sort
        </caption>
        <thead>
          <tr>
            <th scope="col" aria-sort="none">
              <button type="button" class="sort" data-sort="run">run</button>
            </th>
            <th scope="col">state</th>
            <th scope="col">commit</th>
            <th scope="col">branch</th>
            ${columns.map(
              (column) =>
                html`<th scope="col" aria-sort="none" class="num">
                  <button
                    type="button"
                    class="sort"
                    data-sort="${column.kind === 'metric' ? 'm' : 'p'}:${column.name}"
                  >
                    ${column.name}
                  </button>
                  <br /><small class="muted">${column.kind}</small>
                </th>`,
            )}
          </tr>
        </thead>
        <tbody>
          ${runs.map(
            (item) =>
              html`<tr data-run="${item.run.id}">
                <td data-value="${item.run.counter}">
                  <a href="/runs/${item.run.id}">#${item.run.counter}</a>
                  <br /><small class="muted"
                    >${timeTag(item.run.createdAt)}</small
                  >
                </td>
                <td>${statusBadge(item.run.status)}</td>
                <td><code>${item.run.commit.slice(0, 7)}</code></td>
                <td>${branchOf(item.run)}</td>
                ${columns.map((column) => {
                  const value =
                    column.kind === 'metric'
                      ? item.metrics[column.name]
                      : item.parameters[column.name];
                  return html`<td
                    class="num"
                    data-key="${column.kind === 'metric' ? 'm' : 'p'}:${column.name}"
                    data-value="${value === undefined ? '' : JSON.stringify(value)}"
                  >
                    ${show(value)}
                  </td>`;
                })}
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${
      data.columns.length >= 2
        ? html`<h3 id="parallel-title">Parallel coordinates</h3>
            <p class="muted">
              One line per run across the parameters that vary and the metrics
              (drag on an axis to filter; the table above has the same numbers).
            </p>
            <div
              id="parcoords"
              role="img"
              aria-labelledby="parallel-title"
              aria-describedby="table-title"
            ></div>`
        : ''
    }
    <script type="application/json" id="run-table-data">
      ${jsonForScript(data)}
    </script>
  </section>`;
}

function renderPicker(view: Extract<CompareView, { kind: 'pick' }>): SafeHtml {
  return html`<form method="get" action="/compare" id="compare-runs">
      <h2>Runs</h2>
      <p>
        Pick two runs to see them node by node, or more for a table and parallel
        coordinates.
      </p>
      <div class="scroll">
        <table class="runs">
          <thead>
            <tr>
              <th scope="col"><span class="sr-only">select</span></th>
              <th scope="col">run</th>
              <th scope="col">state</th>
              <th scope="col">commit</th>
              <th scope="col">branch</th>
            </tr>
          </thead>
          <tbody>
            ${view.runs.map(
              (run) =>
                html`<tr>
                  <td>
                    <input
                      type="checkbox"
                      name="r"
                      value="${run.id}"
                      aria-label="run #${run.counter} ${run.name}"
                    />
                  </td>
                  <td>
                    <a href="/runs/${run.id}">#${run.counter} ${run.name}</a>
                    <small class="muted">${run.repository}</small>
                  </td>
                  <td>${statusBadge(run.status)}</td>
                  <td><code>${run.commit.slice(0, 7)}</code></td>
                  <td>${branchOf(run)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <button class="primary">Compare runs</button>
    </form>
    <form method="get" action="/compare" id="compare-picker">
      <h2>Executions</h2>
      <p>Pick executions to compare (any commits), or give their ids.</p>
      <div class="scroll">
        <table class="executions">
          <thead>
            <tr>
              <th scope="col"><span class="sr-only">select</span></th>
              <th scope="col">execution</th>
              <th scope="col">commit</th>
              <th scope="col">status</th>
              <th scope="col">metrics</th>
            </tr>
          </thead>
          <tbody>
            ${view.executions.map(
              (record) =>
                html`<tr>
                  <td>
                    <input
                      type="checkbox"
                      name="e"
                      value="${record.id}"
                      aria-label="execution #${record.counter} ${record.node ?? record.step}"
                    />
                  </td>
                  <td>
                    <a href="/executions/${record.id}"
                      >#${record.counter} ${record.node ?? record.step}</a
                    >
                    <small class="muted">${record.repository}</small>
                  </td>
                  <td><code>${record.commit.slice(0, 7)}</code></td>
                  <td>${statusBadge(record.status)}</td>
                  <td>
                    ${Object.entries(record.metrics)
                      .slice(0, 3)
                      .map(([key, value]) => `${key}=${metricValue(value)} `)}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <p class="field">
        <label for="compare-id">execution id</label>
        <input id="compare-id" name="e" placeholder="execution id" />
      </p>
      <button class="primary">Compare executions</button>
    </form>`;
}
