/**
 * Small pieces every page uses: state badges, times and durations, metric
 * values, log lines rendered as the client's log viewer renders them
 * (log-line.js, shared), links to runs and executions.
 */
import { formatMetric } from '../metrics/compare-metrics.js';
import type { ExecutionRecord } from '../model/execution.js';
import { formatDuration } from '../model/format-values.js';
import type { LogLine } from '../model/log-line.js';
import type { RunNodeState, RunRecord } from '../model/run.js';
import { parseTaskNodeName } from '../orchestrator/task/task-children.js';
import {
  groupMarker,
  parseAnsi,
  segmentPresentation,
} from './client/log-line.js';
import { html, type SafeHtml } from './html.js';

export function statusBadge(status: string, attributes = ''): SafeHtml {
  return html`<span
    class="status status-${status}"
    ${attributes ? html`data-${attributes}` : ''}
    >${status}</span
  >`;
}

/** `2026-12-06 12:58:03` in UTC, in a <time> the client makes local. */
export function timeTag(iso: string | undefined): SafeHtml {
  if (!iso) return html``;
  const shown = iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') + ' UTC';
  return html`<time datetime="${iso}">${shown}</time>`;
}

/** From start to end (or to now, live, while running). */
export function durationTag(
  start: string | undefined,
  end: string | undefined,
): SafeHtml {
  if (!start) return html``;
  if (!end) {
    return html`<span data-since="${start}"
      >${formatDuration(Date.now() - Date.parse(start))}</span
    >`;
  }
  return html`<span
    >${formatDuration(Date.parse(end) - Date.parse(start))}</span
  >`;
}

export function runDuration(run: RunRecord): SafeHtml {
  return durationTag(run.startedAt ?? run.createdAt, run.endedAt);
}

export function metricValue(value: unknown): string {
  if (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'string' ||
    typeof value === 'boolean'
  )
    return formatMetric(value);
  return JSON.stringify(value);
}

export function executionLink(record: ExecutionRecord): SafeHtml {
  return html`<a href="/executions/${record.id}"
    >#${record.counter} ${record.node ?? record.step}</a
  >`;
}

/** The branch a run is about: a pull request's head branch, else its ref. */
export function branchOf(run: RunRecord): string {
  if (run.trigger?.pullRequest && run.trigger.headRef)
    return run.trigger.headRef;
  return (run.ref ?? '').replace(/^refs\/(heads|tags)\//, '');
}

/** A GitHub repository page, only for runs that came from GitHub. */
export function githubUrl(run: RunRecord): string | undefined {
  const id = run.source?.id ?? '';
  if (!id.startsWith('github.com/')) return undefined;
  return /^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(run.repository)
    ? `https://github.com/${run.repository}`
    : undefined;
}

/**
 * Log lines as the log viewer draws them (numbers link to the line on the
 * execution page, ANSI colours, groups as folded <details>).
 */
export function renderLogLines(
  lines: readonly LogLine[],
  executionId: string,
  options: { ids?: boolean } = {},
): SafeHtml {
  const ids = options.ids !== false;
  const out: SafeHtml[] = [];
  let group: { title: string; line: LogLine; body: SafeHtml[] } | undefined;
  const close = () => {
    if (!group) return;
    out.push(
      html`<details class="log-group">
        <summary>
          ${lineHtml(group.line, executionId, ids, group.title)}
        </summary>
        ${group.body}
      </details>`,
    );
    group = undefined;
  };
  for (const line of lines) {
    const marker = groupMarker(line.text);
    if (marker?.kind === 'start') {
      close();
      group = { title: marker.title, line, body: [] };
      continue;
    }
    if (marker?.kind === 'end') {
      close();
      continue;
    }
    const rendered = lineHtml(line, executionId, ids);
    if (group) group.body.push(rendered);
    else out.push(rendered);
  }
  close();
  return html`${out}`;
}

function lineHtml(
  line: LogLine,
  executionId: string,
  ids: boolean,
  title?: string,
): SafeHtml {
  const segments =
    title === undefined ? parseAnsi(line.text) : [{ text: title }];
  return html`<div
    class="log-line ${line.stream}"
    data-seq="${line.seq}"
    ${ids ? html`id="L${executionId}-${line.seq}"` : ''}
  >
    <a class="no" href="/executions/${executionId}#L${line.seq}" tabindex="-1"
      >${line.seq + 1}</a
    ><span class="ts">${line.time.slice(11, 23)}</span
    ><span class="tx"
      >${segments.map((segment) => {
        const { className, style } = segmentPresentation(segment);
        return className || style
          ? html`<span
              ${className ? html`class="${className}"` : ''}
              ${style ? html`style="${style}"` : ''}
              >${segment.text}</span
            >`
          : segment.text;
      })}</span
    >
  </div>`;
}

/**
 * A run's own nodes: a task's children and batch joins (`task#3`,
 * `task@1`) left out — they are on the task's page.
 */
export function graphNodesOf(run: Pick<RunRecord, 'nodes'>): RunNodeState[] {
  const names = new Set(run.nodes.map((node) => node.name));
  return run.nodes.filter((node) => {
    const task = parseTaskNodeName(node.name)?.task;
    return task === undefined || !names.has(task);
  });
}
