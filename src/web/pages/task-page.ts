/**
 * A task's page: its sweep settings, the best child by the task's goal, a
 * parallel-coordinates view of every child's parameters and metrics, the
 * goal metric's curves of the best children overlaid, and a table of the
 * children (parameters, metrics, state, time) sorted by any column — the
 * sort is a link, so the page works without a script.
 */
import type {
  TaskChildRow,
  TaskSummary,
} from '../../control/summarize-task.js';
import type { MetricsEvent } from '../../model/execution.js';
import { formatDuration } from '../../model/format-values.js';
import { lossOf } from '../../orchestrator/task/task-goal.js';
import { html, jsonForScript, type SafeHtml } from '../html.js';
import { renderMetricCharts, type ChartSource } from '../metric-charts.js';

export interface TaskPageData {
  run: { id: string; counter: number; name: string };
  task: TaskSummary;
  /** The metric whose curves are drawn, and the best children's events. */
  curves?: { metric: string; sources: readonly ChartSource[] };
  /** `number`, `status`, `time`, `p:NAME` or `m:NAME`. */
  sort: string;
  descending: boolean;
}

const X_KEYS: ReadonlySet<string> = new Set(['step', 'epoch', 'iteration']);

/** Children whose curves the page draws (the best ones). */
export const CURVE_CHILDREN = 20;

export function renderTaskPage(data: TaskPageData): SafeHtml {
  const { task, run } = data;
  const base = `/runs/${encodeURIComponent(run.id)}/tasks/${encodeURIComponent(task.node)}`;
  const counts = Object.entries(task.counts)
    .map(([status, count]) => `${count} ${status}`)
    .join(' · ');
  // The x of curves (step, epoch…) says nothing about a child's result.
  const axes = [
    ...task.parameters.map((name) => ({ key: `p:${name}`, label: name })),
    ...task.metrics
      .filter((name) => !X_KEYS.has(name))
      .slice(0, 6)
      .map((name) => ({ key: `m:${name}`, label: name })),
  ];
  const ranks = rankChildren(task);
  return html`<style>
      table.children tr.best td {
        background: #dcfce7;
        font-weight: 600;
      }
      table.children th.metric a {
        color: #7c2d12;
      }
    </style>
    <p>
      <a href="/runs/${encodeURIComponent(run.id)}"
        >← run #${run.counter} ${run.name}</a
      >
    </p>
    <dl class="kv task-summary">
      <dt>task</dt>
      <dd>
        ${task.node}${task.task && task.task !== task.node ? ` (task ${task.task})` : ''}
        · ${task.type} · step ${task.step}
      </dd>
      <dt>state</dt>
      <dd>
        <span class="status status-${task.status}">${task.status}</span>
        ${task.message ?? ''}
      </dd>
      <dt>children</dt>
      <dd>${task.children.length}${counts ? ` — ${counts}` : ''}</dd>
      <dt>on-child-error</dt>
      <dd>${task.onChildError}</dd>
      ${
        task.stopCondition
          ? html`<dt>stop-condition</dt>
              <dd><code>${task.stopCondition}</code></dd>`
          : ''
      }
      ${
        task.maximumQueuedExecutions !== undefined
          ? html`<dt>at once</dt>
              <dd>${task.maximumQueuedExecutions}</dd>`
          : ''
      }
      <dt>goal</dt>
      <dd>
        ${task.goal ? `${task.goal.metric} · ${task.goal.target !== undefined ? `closest to ${task.goal.target}` : task.goal.goal}` : 'none (no optimization-target-metric nor report metric)'}
      </dd>
      <dt>best child</dt>
      <dd id="best-child">
        ${task.best && task.goal ? html`<a href="#child-${task.best.name}">${task.best.name}</a> · ${task.goal.metric} = ${task.best.value}` : '—'}
      </dd>
    </dl>
    ${
      axes.length >= 2 && task.children.length > 0
        ? html`<h2 id="parallel-title">Parameters and metrics</h2>
            <p class="muted">
              One line per child, green (best) to red (worst) by the goal, the
              best drawn thick (drag on an axis to filter; the table below has
              the same numbers).
            </p>
            <div
              id="parcoords"
              role="img"
              aria-labelledby="parallel-title"
            ></div>
            <script type="application/json" id="task-parallel-data">
              ${jsonForScript(parallelData(task, axes, ranks))}
            </script>`
        : ''
    }
    ${
      data.curves && data.curves.sources.length > 0
        ? html`<h2>${data.curves.metric} over time</h2>
            <p class="note">The ${data.curves.sources.length} best children.</p>
            ${renderMetricCharts(
              data.curves.sources.map((source) => ({
                ...source,
                events: onlyMetric(source.events, data.curves?.metric ?? ''),
              })),
              { id: 'task-charts' },
            )}`
        : ''
    }
    <h2>Children</h2>
    <div class="scroll">${renderTable(task, data, base)}</div>`;
}

function renderTable(
  task: TaskSummary,
  data: TaskPageData,
  base: string,
): SafeHtml {
  const columns: Array<{ key: string; label: string }> = [
    { key: 'number', label: '#' },
    { key: 'status', label: 'state' },
    ...task.parameters.map((name) => ({ key: `p:${name}`, label: name })),
    ...task.metrics.map((name) => ({ key: `m:${name}`, label: name })),
    { key: 'time', label: 'time' },
  ];
  const rows = sortChildren(task.children, data.sort, data.descending);
  const header = columns.map((column) => {
    const active = column.key === data.sort;
    const dir = active && !data.descending ? 'desc' : 'asc';
    return html`<th
      class="${column.key.startsWith('m:') ? 'metric' : column.key.startsWith('p:') ? 'parameter' : ''}"
    >
      <a href="${base}?sort=${encodeURIComponent(column.key)}&amp;dir=${dir}"
        >${column.label}${active ? (data.descending ? ' ▼' : ' ▲') : ''}</a
      >
    </th>`;
  });
  return html`<table class="children" id="children">
    <thead>
      <tr>
        ${header}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (child) =>
          html`<tr
            id="child-${child.name}"
            class="${child.name === task.best?.name ? 'best' : ''}"
          >
            <td>
              ${child.executionId ? html`<a href="/executions/${encodeURIComponent(child.executionId)}">${child.name}</a>` : child.name}
            </td>
            <td>
              <span class="status status-${child.status}">${child.status}</span>
            </td>
            ${task.parameters.map((name) => html`<td>${display(child.parameters[name])}</td>`)}
            ${task.metrics.map((name) => html`<td>${display(child.metrics[name])}</td>`)}
            <td>${duration(child)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/**
 * The children as parallel-coordinates.js draws them (the compare page's
 * shape): parameters keyed `p:`, metrics `m:`, the best child last so its
 * line is drawn over the others.
 */
function parallelData(
  task: TaskSummary,
  axes: readonly { key: string; label: string }[],
  ranks: ReadonlyMap<string, number>,
): unknown {
  const children = [...task.children].sort(
    (a, b) =>
      Number(a.name === task.best?.name) - Number(b.name === task.best?.name),
  );
  return {
    columns: axes,
    runs: children.map((child) => ({
      label: child.name,
      values: Object.fromEntries(
        axes.map((axis) => [
          axis.key,
          (axis.key.startsWith('p:')
            ? child.parameters[axis.label]
            : child.metrics[axis.label]) ?? null,
        ]),
      ),
      ...(ranks.has(child.name) ? { rank: ranks.get(child.name) } : {}),
      best: child.name === task.best?.name,
    })),
  };
}

/** 0 for the best finished child … 1 for the worst. */
function rankChildren(task: TaskSummary): Map<string, number> {
  const ranks = new Map<string, number>();
  if (!task.goal) return ranks;
  const goal = task.goal;
  const scored = task.children
    .map((child) => ({ name: child.name, loss: lossOf(goal, child.metrics) }))
    .filter(
      (item): item is { name: string; loss: number } => item.loss !== undefined,
    )
    .sort((a, b) => a.loss - b.loss);
  scored.forEach((item, index) =>
    ranks.set(item.name, scored.length > 1 ? index / (scored.length - 1) : 0),
  );
  return ranks;
}

export function sortChildren(
  children: readonly TaskChildRow[],
  sort: string,
  descending: boolean,
): TaskChildRow[] {
  const keyOf = (child: TaskChildRow): unknown => {
    if (sort === 'status') return child.status;
    if (sort === 'time') return durationMs(child);
    if (sort.startsWith('p:')) return child.parameters[sort.slice(2)];
    if (sort.startsWith('m:')) return child.metrics[sort.slice(2)];
    return child.number;
  };
  const sorted = [...children].sort((a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    // Children without the value go last either way.
    if (x === undefined || x === null)
      return y === undefined || y === null ? a.number - b.number : 1;
    if (y === undefined || y === null) return -1;
    const order =
      typeof x === 'number' && typeof y === 'number'
        ? x - y
        : String(x).localeCompare(String(y), 'en', { numeric: true });
    return (descending ? -order : order) || a.number - b.number;
  });
  return sorted;
}

function display(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number')
    return Number.isInteger(value)
      ? String(value)
      : String(Number(value.toPrecision(6)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function durationMs(child: TaskChildRow): number | undefined {
  return child.startedAt && child.endedAt
    ? Date.parse(child.endedAt) - Date.parse(child.startedAt)
    : undefined;
}

function duration(child: TaskChildRow): string {
  const ms = durationMs(child);
  return ms === undefined ? '' : formatDuration(ms);
}

/** The goal metric's values (and the x keys) of each event: one chart. */
function onlyMetric(
  events: readonly MetricsEvent[],
  metric: string,
): MetricsEvent[] {
  return events.map((event) => ({
    ...event,
    values: Object.fromEntries(
      Object.entries(event.values).filter(
        ([key]) => key === metric || X_KEYS.has(key),
      ),
    ),
  }));
}
