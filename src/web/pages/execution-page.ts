/**
 * One execution (`/executions/<id>`): what ran and how it ended (the error
 * first when it failed), its whole log (the viewer pages back through the
 * store; raw download), metric numbers and curves, parameters, and its
 * lineage: where each input came from, who read each output.
 */
import type { ExecutionLineage } from '../../control/read-lineage.js';
import { describeEnd } from '../../model/end-reason.js';
import type { ExecutionRecord, MetricsEvent } from '../../model/execution.js';
import { formatBytes } from '../../model/format-values.js';
import type { LogLine } from '../../model/log-line.js';
import type { RunRecord } from '../../model/run.js';
import { html, type SafeHtml } from '../html.js';
import { renderMetricCharts } from '../metric-charts.js';
import {
  durationTag,
  metricValue,
  renderLogLines,
  statusBadge,
  timeTag,
} from '../render-parts.js';
import { isFinalRunStatus } from '../../orchestrator/run-machine.js';

export interface ExecutionPageData {
  record: ExecutionRecord;
  run?: RunRecord;
  /** The newest lines (the viewer opens on the end). */
  lines: LogLine[];
  hasBefore: boolean;
  events: MetricsEvent[];
  lineage: ExecutionLineage;
  eventsAfter?: string;
}

const ENDED = ['complete', 'error', 'stopped'];

export function executionHeading(record: ExecutionRecord): SafeHtml {
  return html`<span
      >Execution #${record.counter} ${record.node ?? record.step}</span
    >
    <span data-region="execution-status" id="execution-status-region"
      >${statusBadge(record.status, 'execution-status')}</span
    >`;
}

export function renderExecutionPage(data: ExecutionPageData): SafeHtml {
  const { record, run } = data;
  const ended = ENDED.includes(record.status);
  return html`<div
      id="execution-live"
      data-execution="${record.id}"
      data-run="${record.runId ?? ''}"
      data-node="${record.node ?? ''}"
      data-after="${data.eventsAfter ?? ''}"
      data-active="${run && !isFinalRunStatus(run.status) && !ended ? 'true' : 'false'}"
    ></div>
    ${renderExecutionTop(data)}
    <section id="log" aria-labelledby="log-title">
      <h2 id="log-title">Log</h2>
      ${renderLogViewer(record, data.lines, data.hasBefore)}
    </section>
    ${renderExecutionBottom(data)}
    <section aria-labelledby="curves-title">
      <h2 id="curves-title">Metric curves</h2>
      ${renderMetricCharts(
        [
          {
            key: record.id,
            label: record.node ?? record.step,
            events: data.events,
          },
        ],
        { id: 'execution-charts' },
      )}
    </section>
    <section aria-labelledby="command-title">
      <h2 id="command-title">Command</h2>
      <div class="log">
        <pre class="log-lines short" style="padding:.6em .8em;margin:0">
${record.command.join('\n')}</pre>
      </div>
    </section>`;
}

/** The parts that change while the execution runs (re-read live). */
export function renderExecutionRegions(data: ExecutionPageData): SafeHtml {
  return html`${renderExecutionTop(data)}${renderExecutionBottom(data)}`;
}

function renderExecutionTop(data: ExecutionPageData): SafeHtml {
  const { record, run } = data;
  const end = record.endReason ? describeEnd(record.endReason) : '';
  return html`<div
      class="meta"
      data-region="execution-meta"
      id="execution-meta"
    >
      ${
        run
          ? html`<span
              >run
              <a href="/runs/${run.id}">#${run.counter} ${run.name}</a></span
            >`
          : record.runId
            ? html`<span
                >run <a href="/runs/${record.runId}">${record.runId}</a></span
              >`
            : ''
      }
      <span>step <b>${record.step}</b></span>
      <span>attempt ${record.attempt}</span>
      <span>${record.repository}</span>
      <span>commit <code>${record.commit.slice(0, 12)}</code></span>
      <span
        >image <code>${record.image}</code>${
          record.imageDigest
            ? html` <code title="${record.imageDigest}"
                >${record.imageDigest.slice(0, 19)}</code
              >`
            : ''
        }</span
      >
      <span>${record.runtime} on ${record.host}</span>
      <span>started ${timeTag(record.startedAt ?? record.createdAt)}</span>
      <span
        >duration
        <b
          >${durationTag(record.startedAt ?? record.createdAt, record.endedAt)}</b
        ></span
      >
      ${
        record.reusedFrom
          ? html`<span
              >reused from
              <a href="/executions/${record.reusedFrom}"
                >${record.reusedFrom}</a
              ></span
            >`
          : ''
      }
    </div>
    <div data-region="execution-end" id="execution-end">
      ${
        record.status === 'error' || record.status === 'stopped'
          ? html`<div class="panel failure" role="alert">
              <p class="headline">
                ✗ ${record.node ?? record.step}
                ${record.status === 'error' ? 'failed' : 'stopped'}
                ${
                  // An exit code is said by its badge.
                  record.endReason?.kind === 'exited'
                    ? ''
                    : `— ${end || record.status}`
                }
                ${
                  record.endReason?.kind === 'exited'
                    ? html`<span class="status status-error"
                        >exit code ${record.endReason.exitCode}</span
                      >`
                    : ''
                }
              </p>
              ${
                data.lines.length > 0
                  ? html`<div class="log">
                      <div
                        class="log-lines short tail"
                        tabindex="0"
                        aria-label="last lines of the log"
                      >
                        <div>
                          ${renderLogLines(data.lines.slice(-15), record.id, { ids: false })}
                        </div>
                      </div>
                    </div>`
                  : ''
              }
            </div>`
          : record.status === 'complete'
            ? html`<div class="panel success">
                <p class="headline">✓ ${end || 'complete'}</p>
              </div>`
            : html`<div class="panel running">
                <p class="headline">▶ ${record.status}</p>
              </div>`
      }
      ${
        (record.notes ?? []).length > 0
          ? html`<ul class="muted">
              ${(record.notes ?? []).map((note) => html`<li>${note}</li>`)}
            </ul>`
          : ''
      }
    </div>`;
}

function renderExecutionBottom(data: ExecutionPageData): SafeHtml {
  const { record } = data;
  return html`<div class="grid2">
      <section
        data-region="execution-metrics"
        id="execution-metrics"
        aria-labelledby="final-title"
      >
        <h2 id="final-title">Metrics</h2>
        ${
          Object.keys(record.metrics).length === 0
            ? html`<p class="muted">No metrics yet.</p>`
            : html`<div class="scroll">
                <table class="final-metrics">
                  <tbody>
                    ${Object.entries(record.metrics).map(
                      ([name, value]) =>
                        html`<tr data-metric="${name}">
                          <th scope="row">${name}</th>
                          <td class="num">${metricValue(value)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
      </section>
      <section aria-labelledby="params-title">
        <h2 id="params-title">Parameters</h2>
        ${
          Object.keys(record.parameters).length === 0
            ? html`<p class="muted">No parameters.</p>`
            : html`<div class="scroll">
                <table class="parameters">
                  <tbody>
                    ${Object.entries(record.parameters).map(
                      ([name, value]) =>
                        html`<tr>
                          <th scope="row"><code>${name}</code></th>
                          <td>
                            ${
                              typeof value === 'string'
                                ? value
                                : JSON.stringify(value)
                            }
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
      </section>
    </div>
    <section data-region="lineage" id="lineage" aria-labelledby="lineage-title">
      <h2 id="lineage-title">Inputs and outputs</h2>
      ${renderLineage(record, data.lineage)}
    </section>`;
}

function renderLineage(
  record: ExecutionRecord,
  lineage: ExecutionLineage,
): SafeHtml {
  const link = (item: {
    executionId: string;
    counter: number;
    node?: string;
    step: string;
  }) =>
    html`<a href="/executions/${item.executionId}"
      >#${item.counter} ${item.node ?? item.step}</a
    >`;
  return html`<h3>Inputs</h3>
    ${
      lineage.inputs.length === 0
        ? html`<p class="muted">No inputs.</p>`
        : html`<div class="scroll">
            <table class="inputs">
              <thead>
                <tr>
                  <th scope="col">input</th>
                  <th scope="col">file</th>
                  <th scope="col" class="num">size</th>
                  <th scope="col">sha256</th>
                  <th scope="col">came from</th>
                </tr>
              </thead>
              <tbody>
                ${lineage.inputs.map(
                  (input) =>
                    html`<tr data-input="${input.input}/${input.name}">
                      <td>${input.input}</td>
                      <td>${input.name}</td>
                      <td class="num">${formatBytes(input.size)}</td>
                      <td>
                        <code title="${input.sha256}"
                          >${input.sha256.slice(0, 12)}</code
                        >
                      </td>
                      <td data-producer>
                        ${
                          input.producer
                            ? html`output <code>${input.producer.path}</code> of
                                ${link(input.producer)}`
                            : html`<code>${input.uri}</code>`
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    <h3>Outputs</h3>
    ${
      lineage.outputs.length === 0
        ? html`<p class="muted">No outputs.</p>`
        : html`<div class="scroll">
            <table class="outputs">
              <thead>
                <tr>
                  <th scope="col">file</th>
                  <th scope="col" class="num">size</th>
                  <th scope="col">sha256</th>
                  <th scope="col">datum</th>
                  <th scope="col">used by</th>
                </tr>
              </thead>
              <tbody>
                ${lineage.outputs.map(
                  (output) =>
                    html`<tr data-output="${output.path}">
                      <td>
                        <a
                          href="/api/executions/${record.id}/outputs/${output.path
                            .split('/')
                            .map(encodeURIComponent)
                            .join('/')}"
                          download
                          >${output.path}</a
                        >
                      </td>
                      <td class="num">${formatBytes(output.size)}</td>
                      <td>
                        <code title="${output.sha256}"
                          >${output.sha256.slice(0, 12)}</code
                        >
                      </td>
                      <td><code>${output.datum}</code></td>
                      <td data-consumers>
                        ${
                          output.consumers.length === 0
                            ? html`<span class="muted">not read yet</span>`
                            : output.consumers.map(
                                (consumer) =>
                                  html`${link(consumer)}
                                    <small class="muted"
                                      >(${consumer.input})</small
                                    ><br />`,
                              )
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }`;
}

/**
 * The log viewer's first paint: the newest lines; the client pages back
 * (`Load earlier`), follows, searches, folds groups and shows times.
 */
export function renderLogViewer(
  record: ExecutionRecord,
  lines: readonly LogLine[],
  hasBefore: boolean,
): SafeHtml {
  const first = lines[0]?.seq ?? 0;
  const last = lines.length > 0 ? lines[lines.length - 1]!.seq : -1;
  const ended = ENDED.includes(record.status);
  return html`<div
    class="log"
    data-log-view="${record.id}"
    data-first="${first}"
    data-last="${last}"
    data-has-before="${hasBefore ? 'true' : 'false'}"
    data-ended="${ended ? 'true' : 'false'}"
  >
    <div class="log-bar" role="toolbar" aria-label="log tools">
      <label
        ><span class="sr-only">Search the log</span
        ><input
          type="search"
          placeholder="Search log"
          data-log-search
          aria-label="Search the log"
      /></label>
      <button type="button" data-log-prev aria-label="Previous match">↑</button>
      <button type="button" data-log-next aria-label="Next match">↓</button>
      <span class="count" data-log-count aria-live="polite"></span>
      <label><input type="checkbox" data-log-times /> timestamps</label>
      <label
        ><input type="checkbox" data-log-follow ${ended ? '' : html`checked`} />
        follow</label
      >
      <button type="button" data-log-top>Top</button>
      <a
        class="button"
        href="/api/executions/${record.id}/logs/raw"
        download="${record.id}.log"
        >Download</a
      >
    </div>
    <p class="log-note" data-log-before ${hasBefore ? '' : html`hidden`}>
      <button type="button" data-log-earlier>Load earlier lines</button>
      <span data-log-range>showing from line ${first + 1}</span>
    </p>
    <div class="log-lines" data-log-lines tabindex="0" aria-label="log lines">
      ${
        lines.length > 0
          ? renderLogLines(lines, record.id)
          : html`<p class="log-note" data-log-empty>No output yet.</p>`
      }
    </div>
  </div>`;
}
