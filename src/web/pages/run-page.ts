/**
 * The page a commit status links to: the commit, the graph with node
 * states, and per execution its command, image, parameters, inputs and
 * outputs (sizes, sha256, downloads), live log tail and metric curves.
 */
import { formatBytes, formatDuration } from '../../model/format-values.js';
import type { ExecutionRecord, MetricsEvent } from '../../model/execution.js';
import type { LogLine } from '../../model/log-line.js';
import type { RunRecord } from '../../model/run.js';
import { html, type SafeHtml } from '../html.js';
import { metricNames, renderChart, seriesOf } from '../metric-charts.js';
import { renderDagSvg, type DagNode } from '../render-dag-svg.js';

export interface RunPageExecution {
  record: ExecutionRecord;
  log: LogLine[];
  events: MetricsEvent[];
}

export interface RunPageData {
  run: RunRecord;
  graph: DagNode[];
  executions: RunPageExecution[];
  canAct: boolean;
  /** The run's event stream id when the page was read: live from there. */
  eventsAfter?: string;
  /** Task nodes: their children are on the task's own page. */
  tasks?: readonly string[];
}

export function renderRunPage(data: RunPageData): SafeHtml {
  const { run } = data;
  const github = /^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(run.repository)
    ? `https://github.com/${run.repository}`
    : undefined;
  const active = !['complete', 'error', 'stopped', 'cancelled'].includes(
    run.status,
  );
  return html`<div
      id="run-live"
      data-run="${run.id}"
      data-after="${data.eventsAfter ?? ''}"
      data-active="${active ? 'true' : 'false'}"
      data-tasks="${JSON.stringify(data.tasks ?? [])}"
    ></div>
    <dl class="run-summary">
      <dt>repository</dt>
      <dd>${run.repository}</dd>
      <dt>commit</dt>
      <dd>
        <code>${run.commit}</code
        >${github && !run.commit.startsWith('~') ? html` (<a href="${github}/commit/${run.commit}">on GitHub</a>)` : ''}
      </dd>
      <dt>ref</dt>
      <dd>
        ${run.ref ?? ''}${run.trigger?.pullRequest && github ? html` · <a href="${github}/pull/${run.trigger.pullRequest}">PR #${run.trigger.pullRequest}</a>` : ''}
      </dd>
      <dt>${run.kind}</dt>
      <dd>${run.name}</dd>
      <dt>state</dt>
      <dd>
        <span class="status status-${run.status}" id="run-status"
          >${run.status}</span
        >
        <span id="run-reason">${run.reason ?? ''}</span>
      </dd>
      <dt>trigger</dt>
      <dd>
        ${run.trigger?.event ?? ''}
        ${run.trigger?.sender ? `by ${run.trigger.sender}` : ''}
      </dd>
      <dt>created</dt>
      <dd>
        ${run.createdAt}${run.endedAt ? ` · ended ${run.endedAt} (${formatDuration(Date.parse(run.endedAt) - Date.parse(run.startedAt ?? run.createdAt))})` : ''}
      </dd>
      <dt>parameters</dt>
      <dd><code>${JSON.stringify(run.parameters)}</code></dd>
    </dl>
    ${data.canAct ? html`<p class="actions">${active ? html`<button data-action="/api/runs/${run.id}/cancel">Cancel</button> ` : ''}${run.status === 'waiting-approval' ? html`<button data-action="/api/runs/${run.id}/approve">Approve</button> ` : ''}<button data-action="/api/runs/${run.id}/rerun">Re-run</button> <span id="action-status" class="error"></span></p>` : ''}
    ${data.graph.length > 0 ? renderDagSvg(data.graph, run.nodes) : ''}
    ${(data.tasks ?? []).map(
      (task) =>
        html`<p class="task-link">
          Task
          <a href="/runs/${run.id}/tasks/${encodeURIComponent(task)}">${task}</a
          >: its children, the best one and their curves.
        </p>`,
    )}
    ${data.executions.length > 1 ? html`<p><a href="/compare?${data.executions.map((item) => `e=${encodeURIComponent(item.record.id)}`).join('&')}">compare these executions</a></p>` : ''}
    ${data.executions.map(renderExecution)}`;
}

function renderExecution(item: RunPageExecution): SafeHtml {
  const { record, log, events } = item;
  const last = log.length > 0 ? log[log.length - 1]!.seq : -1;
  const names = metricNames(events);
  return html`<section
    class="execution"
    id="execution-${record.id}"
    data-execution="${record.id}"
    data-node="${record.node ?? ''}"
  >
    <h2>
      ${record.node ?? record.step}
      <span class="status status-${record.status}" data-execution-status
        >${record.status}</span
      >
      <small>#${record.counter} · ${record.id}</small>
    </h2>
    <dl>
      <dt>command</dt>
      <dd><pre>${record.command.join('\n')}</pre></dd>
      <dt>image</dt>
      <dd>
        <code>${record.image}</code
        >${record.imageDigest ? html` <code>${record.imageDigest}</code>` : ''}
        · ${record.runtime} on
        ${record.host}${record.worker ? ` (worker ${record.worker})` : ''}
      </dd>
      <dt>time</dt>
      <dd>
        ${record.startedAt ?? record.createdAt}${record.endedAt && record.startedAt ? ` · ${formatDuration(Date.parse(record.endedAt) - Date.parse(record.startedAt))}` : ''}${record.endReason ? html` · end: <code>${JSON.stringify(record.endReason)}</code>` : ''}
      </dd>
    </dl>
    <h3>Parameters</h3>
    <table class="parameters">
      <tbody>
        ${Object.entries(record.parameters).map(
          ([key, value]) =>
            html`<tr>
              <th>${key}</th>
              <td>${String(value)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>Inputs</h3>
    <table class="inputs">
      <thead>
        <tr>
          <th>input</th>
          <th>file</th>
          <th>size</th>
          <th>sha256</th>
          <th>from</th>
        </tr>
      </thead>
      <tbody>
        ${record.inputs.map(
          (input) =>
            html`<tr>
              <td>${input.input}</td>
              <td>${input.name}</td>
              <td>${formatBytes(input.size)}</td>
              <td><code>${input.sha256}</code></td>
              <td>${input.uri}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>Outputs</h3>
    <table class="outputs">
      <thead>
        <tr>
          <th>path</th>
          <th>size</th>
          <th>sha256</th>
          <th>datum</th>
        </tr>
      </thead>
      <tbody>
        ${record.outputs.map(
          (output) =>
            html`<tr>
              <td>
                <a
                  href="/api/executions/${record.id}/outputs/${output.path.split('/').map(encodeURIComponent).join('/')}"
                  >${output.path}</a
                >
              </td>
              <td>${formatBytes(output.size)}</td>
              <td><code>${output.sha256}</code></td>
              <td>
                <code>${output.datum}</code
                >${output.alias ? ` (${output.alias})` : ''}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>Metrics</h3>
    <table class="metrics">
      <tbody>
        ${Object.entries(record.metrics).map(
          ([key, value]) =>
            html`<tr>
              <th>${key}</th>
              <td class="metric-value" data-metric="${key}">
                ${String(value)}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${names.map((name) => renderChart(`${record.id}:${name}`, { title: name, xLabel: 'step', series: [seriesOf(events, name, name)] }))}
    <h3>Log</h3>
    <pre class="log" data-log="${record.id}" data-after="${last}">
${log.map((line) => html`<span class="${line.stream}">${line.text}${'\n'}</span>`)}</pre>
  </section>`;
}
