/**
 * The page a commit status links to. It opens on what matters: the failed
 * or running step with its error and last lines, then the comparison with
 * the base (the pull-request comment's facts), the clickable graph, every
 * step with its attempts (`#execution-<id>` anchors, the links kiln posts),
 * metrics (numbers, and charts for series), outputs and parameters.
 *
 * Regions marked `data-region` are what the client re-reads (`?regions=1`)
 * when the run changes; charts grow from the live stream's points.
 */
import { describeEnd } from '../../model/end-reason.js';
import type { ExecutionRecord } from '../../model/execution.js';
import { formatBytes } from '../../model/format-values.js';
import type { RunRecord } from '../../model/run.js';
import {
  describeRegression,
  formatDelta,
  formatMetric,
  type MetricComparison,
} from '../../metrics/compare-metrics.js';
import { describeRun } from '../../metrics/describe-run.js';
import { html, type SafeHtml } from '../html.js';
import type { FocusItem, RunView } from '../load-run-view.js';
import { renderMetricCharts } from '../metric-charts.js';
import { renderDagSvg } from '../render-dag-svg.js';
import {
  branchOf,
  durationTag,
  executionLink,
  githubUrl,
  metricValue,
  renderLogLines,
  runDuration,
  statusBadge,
  timeTag,
} from '../render-parts.js';
import { isFinalRunStatus } from '../../orchestrator/run-machine.js';

export interface RunPageOptions {
  canAct: boolean;
  /** The run's event stream id when the page was read: live from there. */
  eventsAfter?: string;
}

export function runHeading(run: RunRecord): SafeHtml {
  return html`<span>Run #${run.counter} ${run.name}</span>
    <span data-region="run-status" id="run-status-region"
      >${statusBadge(run.status, 'run-status')}</span
    >`;
}

export function renderRunPage(
  view: RunView,
  options: RunPageOptions,
): SafeHtml {
  const { run } = view;
  const active = !isFinalRunStatus(run.status);
  const regions = regionParts(view, options);
  return html`<div
      id="run-live"
      data-run="${run.id}"
      data-after="${options.eventsAfter ?? ''}"
      data-active="${active ? 'true' : 'false'}"
      data-tasks="${JSON.stringify(view.tasks)}"
    ></div>
    ${regions.meta} ${regions.actions} ${regions.attention}
    ${regions.comparison}
    <section aria-labelledby="graph-title">
      <h2 id="graph-title">Graph</h2>
      <div class="scroll">
        ${
          view.graph.length > 0
            ? renderDagSvg(view.graph, run.nodes, (state, name) =>
                state?.executionId
                  ? `/executions/${encodeURIComponent(state.executionId)}`
                  : `#node-${encodeURIComponent(name)}`,
              )
            : html`<p class="muted">No graph: the run has no nodes.</p>`
        }
      </div>
      ${view.tasks.map(
        (task) =>
          html`<p class="task-link">
            Task
            <a href="/runs/${run.id}/tasks/${encodeURIComponent(task)}"
              >${task}</a
            >: its children, the best one and their curves.
          </p>`,
      )}
    </section>
    ${regions.steps} ${regions.metrics}
    <section aria-labelledby="charts-title">
      <h2 id="charts-title">Metric curves</h2>
      ${renderMetricCharts(
        [...view.current.values()].map((record) => ({
          key: record.id,
          label: record.node ?? record.step,
          events: view.metrics.get(record.id) ?? [],
        })),
        { id: 'run-charts' },
      )}
    </section>
    ${regions.outputs} ${regions.parameters}`;
}

/** Everything that changes while a run goes on (re-read live). */
export function renderRegions(
  view: RunView,
  options: RunPageOptions,
): SafeHtml {
  return html`${Object.values(regionParts(view, options))}`;
}

function regionParts(view: RunView, options: RunPageOptions) {
  return {
    meta: renderMeta(view),
    actions: html`<div data-region="actions" id="run-actions">
      ${options.canAct ? renderActions(view.run) : ''}
    </div>`,
    attention: html`<div data-region="attention" id="attention">
      ${renderAttention(view)}
    </div>`,
    comparison: html`<div data-region="comparison" id="comparison">
      ${renderComparison(view)}
    </div>`,
    steps: html`<section
      data-region="steps"
      id="steps"
      aria-labelledby="steps-title"
    >
      <h2 id="steps-title">Steps</h2>
      ${renderSteps(view)}
    </section>`,
    metrics: html`<section
      data-region="metrics"
      id="metrics"
      aria-labelledby="metrics-title"
    >
      <h2 id="metrics-title">Metrics</h2>
      ${renderFinalMetrics(view)}
    </section>`,
    outputs: html`<section
      data-region="outputs"
      id="outputs"
      aria-labelledby="outputs-title"
    >
      <h2 id="outputs-title">Outputs</h2>
      ${renderOutputs(view)}
    </section>`,
    parameters: html`<section
      data-region="parameters"
      id="parameters"
      aria-labelledby="parameters-title"
    >
      <h2 id="parameters-title">Parameters</h2>
      ${renderParameters(view)}
    </section>`,
  };
}

function renderMeta(view: RunView): SafeHtml {
  const { run } = view;
  const github = githubUrl(run);
  const branch = branchOf(run);
  const pr = run.trigger?.pullRequest;
  const commitShort = run.commit.startsWith('~')
    ? `work tree ${run.commit.slice(1, 9)}`
    : run.commit.slice(0, 12);
  return html`<div class="meta" data-region="meta" id="run-meta">
    <span>${run.repository}</span>
    ${
      branch
        ? html`<span
            >branch
            <a href="/runs?branch=${encodeURIComponent(branch)}"
              ><b>${branch}</b></a
            ></span
          >`
        : ''
    }
    ${
      pr
        ? html`<span
            >${
              github
                ? html`<a href="${github}/pull/${pr}">PR #${pr}</a>`
                : html`PR #${pr}`
            }</span
          >`
        : ''
    }
    <span
      >commit
      ${
        github && !run.commit.startsWith('~')
          ? html`<a href="${github}/commit/${run.commit}"
              ><code>${commitShort}</code></a
            >`
          : html`<code title="${run.commit}">${commitShort}</code>`
      }
      ${view.commit ? html`<b>${view.commit.subject}</b>` : ''}</span
    >
    <span
      >${run.trigger?.event ?? 'run'}${
        run.trigger?.sender ? html` by <b>${run.trigger.sender}</b>` : ''
      }${
        view.commit && view.commit.author !== run.trigger?.sender
          ? html` · author <b>${view.commit.author}</b>`
          : ''
      }</span
    >
    <span>created ${timeTag(run.createdAt)}</span>
    <span>duration <b>${runDuration(run)}</b></span>
    ${
      view.rerunOf
        ? html`<span
            >re-run of
            <a href="/runs/${view.rerunOf.id}"
              >#${view.rerunOf.counter}</a
            ></span
          >`
        : ''
    }
    ${
      run.supersededBy
        ? html`<span
            >superseded by
            <a href="/runs/${run.supersededBy}">a newer run</a></span
          >`
        : ''
    }
  </div>`;
}

function renderActions(run: RunRecord): SafeHtml {
  const active = !isFinalRunStatus(run.status);
  return html`<div class="actions">
    ${
      active
        ? html`<button class="danger" data-action="/api/runs/${run.id}/cancel">
            Cancel
          </button>`
        : ''
    }
    ${
      run.status === 'waiting-approval'
        ? html`<button
            class="primary"
            data-action="/api/runs/${run.id}/approve"
          >
            Approve
          </button>`
        : ''
    }
    ${
      run.config && !run.commit.startsWith('~')
        ? html`<button
              data-action="/api/runs/${run.id}/rerun"
              data-body='{"reuse":true}'
              title="Unchanged steps reuse their earlier results"
            >
              Re-run (reuse unchanged)
            </button>
            <button
              data-action="/api/runs/${run.id}/rerun"
              data-body='{"reuse":false}'
            >
              Re-run all
            </button>
            <a class="button" href="/launch?from=${run.id}">Copy as new…</a>`
        : ''
    }
    <span id="action-status" class="error" role="status"></span>
  </div>`;
}

function renderAttention(view: RunView): SafeHtml {
  const { run } = view;
  const failed = view.focus.filter((item) => item.node.status === 'error');
  const running = view.focus.filter((item) => item.node.status === 'started');
  const parts: SafeHtml[] = [];
  if (run.status === 'error' && failed.length === 0) {
    parts.push(
      html`<div class="panel failure" role="alert">
        <p class="headline">
          ${describeRun({ run, comparisons: view.comparison.comparisons }).description}
        </p>
        ${run.reason ? html`<p>${run.reason}</p>` : ''}
        ${
          view.comparison.findings.length > 0
            ? html`<ul>
                ${view.comparison.findings.slice(0, 20).map(
                  (finding) =>
                    html`<li>
                      <code
                        >${finding.file}${
                          finding.line > 0 ? `:${finding.line}` : ''
                        }</code
                      >
                      ${finding.severity}: ${finding.message}
                    </li>`,
                )}
              </ul>`
            : ''
        }
      </div>`,
    );
  }
  for (const item of failed.slice(0, 3))
    parts.push(renderFocus(item, 'failure'));
  if (failed.length > 3)
    parts.push(
      html`<p class="error">
        ${failed.length - 3} more steps failed: see Steps.
      </p>`,
    );
  for (const item of running.slice(0, 3))
    parts.push(renderFocus(item, 'running'));
  if (run.status === 'waiting-approval') {
    parts.push(
      html`<div class="panel waiting">
        <p class="headline">Waiting for approval</p>
        <p>
          ${run.reason ?? 'An admin must approve this run before it starts.'}
        </p>
      </div>`,
    );
  }
  if (run.status === 'complete') {
    // What the commit status says: a complete run whose metric regressed
    // beyond what the report allows is a failure, not a green run.
    const status = describeRun({
      run,
      comparisons: view.comparison.comparisons,
      baseLabel: view.comparison.base.label,
    });
    const failed = status.state === 'failure';
    const first = view.comparison.comparisons.find(
      (item) => item.head !== undefined,
    );
    parts.push(
      html`<div
        class="panel ${failed ? 'failure' : 'success'}"
        ${failed ? html`role="alert"` : ''}
        data-commit-state="${status.state}"
      >
        <p class="headline">
          ${
            failed
              ? html`✗ Complete, but ${status.description}`
              : html`✓ Complete in
                ${runDuration(run)}${
                  first
                    ? html` · ${first.name} <b>${formatMetric(first.head)}</b>`
                    : ''
                }`
          }
        </p>
        ${
          failed
            ? html`<p class="muted">
                The commit status kiln posts for this run is a failure.
              </p>`
            : ''
        }
      </div>`,
    );
  }
  if (view.rerunOf) {
    // A re-run says what it reused and what it ran again.
    const reused = run.nodes.filter((node) => node.status === 'reused');
    const ran = run.nodes.filter(
      (node) => node.status !== 'reused' && node.attempt > 0,
    );
    parts.push(
      html`<p class="muted" data-rerun>
        Re-run of
        <a href="/runs/${view.rerunOf.id}">run #${view.rerunOf.counter}</a>${
          run.trigger?.reuse
            ? html` (unchanged steps reuse their results)`
            : html` (every step runs again)`
        }${
          reused.length > 0
            ? html` · reused:
                <b>${reused.map((node) => node.name).join(', ')}</b>`
            : ''
        }${
          ran.length > 0
            ? html` · ran: <b>${ran.map((node) => node.name).join(', ')}</b>`
            : ''
        }
      </p>`,
    );
  }
  if (run.status === 'cancelled' || run.status === 'stopped') {
    parts.push(
      html`<div class="panel waiting">
        <p class="headline">
          ${run.status}${run.reason ? `: ${run.reason}` : ''}
        </p>
      </div>`,
    );
  }
  if (
    (run.status === 'queued' || run.status === 'created') &&
    running.length === 0
  ) {
    parts.push(
      html`<div class="panel running">
        <p class="headline">Queued: waiting for a worker</p>
      </div>`,
    );
  }
  return html`${parts}`;
}

function renderFocus(item: FocusItem, kind: 'failure' | 'running'): SafeHtml {
  const { node, execution } = item;
  const end = execution?.endReason ? describeEnd(execution.endReason) : '';
  // An exit code is said by its badge, not again in words.
  const why =
    kind === 'failure'
      ? execution?.endReason?.kind === 'exited'
        ? ''
        : end || node.message || 'failed'
      : node.phase && node.phase !== 'running'
        ? node.phase
        : 'running';
  return html`<div
    class="panel ${kind}"
    ${kind === 'failure' ? html`role="alert"` : ''}
    data-focus="${node.name}"
  >
    <p class="headline">
      ${kind === 'failure' ? '✗' : '▶'} ${node.name}
      ${kind === 'failure' ? 'failed' : ''}
      ${why ? html`— <span data-focus-why>${why}</span>` : ''}
      ${
        execution?.endReason?.kind === 'exited'
          ? html`<span class="status status-error"
              >exit code ${execution.endReason.exitCode}</span
            >`
          : ''
      }
      <span class="muted"
        >attempt
        ${node.attempt}${
          node.startedAt
            ? html` · ${durationTag(node.startedAt, node.endedAt)}`
            : ''
        }</span
      >
    </p>
    ${
      node.message && kind === 'failure' && node.message !== end
        ? html`<p>${node.message}</p>`
        : ''
    }
    ${
      node.executionId
        ? html`<div class="log">
              <div
                class="log-lines short tail"
                tabindex="0"
                aria-label="last lines of ${node.name}'s log"
              >
                <div data-tail="${node.executionId}">
                  ${
                    item.lines.length > 0
                      ? renderLogLines(item.lines, node.executionId, {
                          ids: false,
                        })
                      : html`<p class="log-note">No output yet.</p>`
                  }
                </div>
              </div>
            </div>
            <p>
              <a href="/executions/${node.executionId}#log">Full log</a> ·
              <a href="/executions/${node.executionId}">Execution page</a>
            </p>`
        : ''
    }
  </div>`;
}

function renderComparison(view: RunView): SafeHtml {
  const { run, comparison } = view;
  if (!run.trigger?.pullRequest) return html``;
  const { base } = comparison;
  const verdict = {
    failed: html`<span class="verdict error"
      >✗ Gate failed: a metric regressed beyond what the report allows</span
    >`,
    passed: html`<span class="verdict" style="color:var(--ok)"
      >✓ Gate passed</span
    >`,
    'no-baseline': html`<span class="verdict muted">No baseline</span>`,
    'not-applicable': html``,
  }[comparison.gate];
  const regressions = comparison.comparisons.filter((item) => item.regression);
  return html`<section class="panel" aria-labelledby="comparison-title">
    <h2 id="comparison-title">
      Compared with
      ${
        base.run
          ? html`<a href="/runs/${base.run.id}"
                >${base.label} · run #${base.run.counter}</a
              >
              <code>${base.run.commit.slice(0, 7)}</code>`
          : base.label
      }
    </h2>
    <p>${verdict}</p>
    ${
      !base.run
        ? html`<p class="muted">
            No successful run of ${run.name} on ${base.label} at or before the
            merge
            base${
              base.mergeBase
                ? html` <code>${base.mergeBase.slice(0, 7)}</code>`
                : ''
            }
            — push to ${base.label} to get a baseline.
          </p>`
        : ''
    }
    ${
      regressions.length > 0
        ? html`<ul>
            ${regressions.map(
              (item) =>
                html`<li class="error">
                  ${describeRegression(item, base.label)}
                </li>`,
            )}
          </ul>`
        : ''
    }
    ${
      comparison.comparisons.length > 0
        ? html`<div class="scroll">
            <table class="comparison">
              <caption class="sr-only">
                Metrics of this run against the base run
              </caption>
              <thead>
                <tr>
                  <th scope="col">metric</th>
                  <th scope="col">goal</th>
                  <th scope="col" class="num">base</th>
                  <th scope="col" class="num">this run</th>
                  <th scope="col">Δ</th>
                </tr>
              </thead>
              <tbody>
                ${comparison.comparisons.map(renderComparisonRow)}
              </tbody>
            </table>
          </div>`
        : html`<p class="muted">No metrics yet.</p>`
    }
    ${
      comparison.differingParameters.length > 0
        ? html`<h3>Parameters that differ from the base</h3>
            <div class="scroll">
              <table class="differing-parameters">
                <thead>
                  <tr>
                    <th scope="col">parameter</th>
                    <th scope="col">base</th>
                    <th scope="col">this run</th>
                  </tr>
                </thead>
                <tbody>
                  ${comparison.differingParameters.map(
                    (item) =>
                      html`<tr data-parameter="${item.name}">
                        <th scope="row"><code>${item.name}</code></th>
                        <td>${show(item.base)}</td>
                        <td>${show(item.head)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
        : ''
    }
  </section>`;
}

function renderComparisonRow(item: MetricComparison): SafeHtml {
  const judged =
    item.verdict === 'better' || item.verdict === 'worse' ? item.verdict : '';
  const delta =
    item.delta === undefined
      ? item.verdict === 'same'
        ? ''
        : item.verdict
      : item.delta === 0
        ? '0'
        : `${item.delta > 0 ? '▲' : '▼'} ${formatDelta(item.delta)}`;
  return html`<tr data-metric="${item.name}" data-verdict="${item.verdict}">
    <th scope="row">${item.name}</th>
    <td>
      ${
        item.goal === 'maximize'
          ? 'higher is better'
          : item.goal === 'minimize'
            ? 'lower is better'
            : ''
      }
    </td>
    <td class="num">${formatMetric(item.base)}</td>
    <td class="num">${formatMetric(item.head)}</td>
    <td class="${judged ? `delta-${judged}` : ''}">
      ${delta}${judged ? ` ${judged}` : ''}${
        item.regression ? ' (beyond allowed)' : ''
      }
    </td>
  </tr>`;
}

function renderSteps(view: RunView): SafeHtml {
  const { run } = view;
  const byNode = new Map<string, ExecutionRecord[]>();
  for (const record of view.attempts) {
    const list = byNode.get(record.node ?? record.step) ?? [];
    list.push(record);
    byNode.set(record.node ?? record.step, list);
  }
  return html`<div class="scroll">
    <table class="steps">
      <thead>
        <tr>
          <th scope="col">step</th>
          <th scope="col">state</th>
          <th scope="col">time</th>
          <th scope="col">execution</th>
          <th scope="col">metrics</th>
          <th scope="col" class="hide-narrow">note</th>
        </tr>
      </thead>
      <tbody>
        ${run.nodes.map((node) => {
          const record = view.current.get(node.name);
          const attempts = byNode.get(node.name) ?? [];
          const earlier = attempts.filter((item) => item.id !== record?.id);
          const metrics = Object.entries(record?.metrics ?? {}).slice(0, 4);
          return html`<tr id="node-${node.name}" data-node="${node.name}">
            <th scope="row">
              ${attempts.map(
                (item) => html`<span id="execution-${item.id}"></span>`,
              )}${
                record && !attempts.includes(record)
                  ? html`<span id="execution-${record.id}"></span>`
                  : ''
              }
              ${node.name}
              ${
                node.step !== node.name
                  ? html`<small class="muted">${node.step}</small>`
                  : ''
              }
            </th>
            <td>
              ${statusBadge(node.status, 'node-status')}${
                node.status === 'started' && node.phase
                  ? html` <small>${node.phase}</small>`
                  : ''
              }
            </td>
            <td>${durationTag(node.startedAt, node.endedAt)}</td>
            <td>
              ${record ? executionLink(record) : ''}${
                view.tasks.includes(node.name)
                  ? html` <small
                      >${record ? 'best child · ' : ''}<a
                        href="/runs/${run.id}/tasks/${encodeURIComponent(
                          node.name,
                        )}"
                        >all children</a
                      ></small
                    >`
                  : ''
              }${
                record?.runId && record.runId !== run.id
                  ? html` <small class="muted"
                      >from
                      <a href="/runs/${record.runId}">an earlier run</a></small
                    >`
                  : ''
              }
              ${
                earlier.length > 0
                  ? html`<br /><small
                        >earlier:
                        ${earlier.map(
                          (item) =>
                            html`<a href="/executions/${item.id}"
                              >attempt ${item.attempt}</a
                            > `,
                        )}</small
                      >`
                  : ''
              }
            </td>
            <td>
              ${metrics.map(
                ([name, value]) =>
                  html`<span class="mono"
                    >${name}=${metricValue(value)}</span
                  > `,
              )}
            </td>
            <td class="hide-narrow">${node.message ?? ''}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}

function renderFinalMetrics(view: RunView): SafeHtml {
  const records = [...view.current.values()].filter(
    (record) => Object.keys(record.metrics).length > 0,
  );
  if (records.length === 0) return html`<p class="muted">No metrics yet.</p>`;
  const names = [
    ...new Set(records.flatMap((record) => Object.keys(record.metrics))),
  ];
  return html`<div class="scroll">
    <table class="final-metrics">
      <caption class="sr-only">
        Final value of each metric per step
      </caption>
      <thead>
        <tr>
          <th scope="col">metric</th>
          ${records.map(
            (record) =>
              html`<th scope="col" class="num">
                ${record.node ?? record.step}
              </th>`,
          )}
        </tr>
      </thead>
      <tbody>
        ${names.map(
          (name) =>
            html`<tr data-metric="${name}">
              <th scope="row">${name}</th>
              ${records.map(
                (record) =>
                  html`<td class="num" data-node="${record.node ?? ''}">
                    ${
                      Object.hasOwn(record.metrics, name)
                        ? metricValue(record.metrics[name])
                        : ''
                    }
                  </td>`,
              )}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function renderOutputs(view: RunView): SafeHtml {
  const rows = [...view.current.values()].flatMap((record) =>
    record.outputs.map((output) => ({ record, output })),
  );
  if (rows.length === 0) return html`<p class="muted">No outputs yet.</p>`;
  return html`<div class="scroll">
    <table class="outputs">
      <thead>
        <tr>
          <th scope="col">step</th>
          <th scope="col">file</th>
          <th scope="col" class="num">size</th>
          <th scope="col">sha256</th>
          <th scope="col">lineage</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          ({ record, output }) =>
            html`<tr data-output="${output.path}">
              <td>${record.node ?? record.step}</td>
              <td>
                <a
                  href="/api/executions/${record.id}/outputs/${output.path
                    .split('/')
                    .map(encodeURIComponent)
                    .join('/')}"
                  download
                  >${output.path}</a
                >${output.alias ? html` <small>(${output.alias})</small>` : ''}
              </td>
              <td class="num">${formatBytes(output.size)}</td>
              <td>
                <code title="${output.sha256}"
                  >${output.sha256.slice(0, 12)}</code
                >
              </td>
              <td>
                <a href="/executions/${record.id}#lineage">used by…</a>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function renderParameters(view: RunView): SafeHtml {
  const entries = Object.entries(view.comparison.parameters);
  if (entries.length === 0) return html`<p class="muted">No parameters.</p>`;
  const overridden = new Set(Object.keys(view.run.parameters));
  return html`<div class="scroll">
    <table class="parameters">
      <tbody>
        ${entries.map(
          ([name, value]) =>
            html`<tr>
              <th scope="row"><code>${name}</code></th>
              <td>
                ${show(value)}${
                  overridden.has(name)
                    ? html` <small class="muted">(set for this run)</small>`
                    : ''
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function show(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
