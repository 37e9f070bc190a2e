/**
 * The runs list: filters (repository, a branch — its pushes and the pull
 * requests from it —, a commit by its short SHA, state), newest first, in
 * pages; per run its state, a strip of its steps' states, commit subject,
 * trigger and author, duration and key metrics. The rows re-read
 * themselves (`?regions=1`) when runs change.
 */
import type { CommitInfo } from '../../git/describe-commits.js';
import type { RunRecord } from '../../model/run.js';
import { html, type SafeHtml } from '../html.js';
import {
  branchOf,
  graphNodesOf,
  metricValue,
  runDuration,
  statusBadge,
  timeTag,
} from '../render-parts.js';

export interface RunsPageData {
  runs: RunRecord[];
  commits: Map<string, CommitInfo>;
  /** Key metrics per run (of its last step with metrics, failed runs too). */
  metrics: Map<string, Record<string, unknown>>;
  filters: {
    repository?: string;
    branch?: string;
    commit?: string;
    state?: string;
  };
  offset: number;
  limit: number;
  hasMore: boolean;
  states: readonly string[];
  problem?: string;
  /** The global event stream's id when the list was read: live from there. */
  eventsAfter?: string;
}

export function renderRunsPage(data: RunsPageData): SafeHtml {
  const { filters } = data;
  return html`<form class="filters" method="get" action="/runs" role="search">
      <label
        >repository
        <input
          name="repository"
          placeholder="owner/repo"
          value="${filters.repository ?? ''}"
      /></label>
      <label
        >branch
        <input name="branch" placeholder="main" value="${filters.branch ?? ''}"
      /></label>
      <label
        >commit
        <input
          name="commit"
          placeholder="7+ characters"
          size="12"
          value="${filters.commit ?? ''}"
      /></label>
      <label
        >state
        <select name="state">
          <option value="">any</option>
          ${data.states.map(
            (state) =>
              html`<option
                value="${state}"
                ${state === filters.state ? html`selected` : ''}
              >
                ${state}
              </option>`,
          )}
        </select></label
      >
      <button class="primary">Filter</button>
      ${
        Object.values(filters).some(Boolean)
          ? html`<a href="/runs">clear</a>`
          : ''
      }
    </form>
    <div
      id="runs-list"
      ${data.eventsAfter ? html`data-live-runs data-after="${data.eventsAfter}"` : ''}
    >
      ${renderRunRows(data)}
    </div>`;
}

/** The table and pager: the list's live region. */
export function renderRunRows(data: RunsPageData): SafeHtml {
  const { filters, offset, limit } = data;
  const query = (at: number) =>
    new URLSearchParams({
      ...Object.fromEntries(
        Object.entries(filters).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        ),
      ),
      offset: String(at),
    }).toString();
  return html`<div data-region="runs" id="runs-region">
    ${data.problem ? html`<p class="error" role="alert">${data.problem}</p>` : ''}
    <form method="get" action="/compare" id="runs-compare">
      <div class="scroll">
        <table class="runs">
          <caption class="sr-only">
            Runs, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col"><span class="sr-only">select</span></th>
              <th scope="col">run</th>
              <th scope="col">state</th>
              <th scope="col">steps</th>
              <th scope="col">commit</th>
              <th scope="col">branch</th>
              <th scope="col" class="hide-narrow">trigger</th>
              <th scope="col">duration</th>
              <th scope="col" class="hide-narrow">metrics</th>
              <th scope="col" class="hide-narrow">created</th>
            </tr>
          </thead>
          <tbody data-run-ids="${data.runs.map((run) => run.id).join(',')}">
            ${data.runs.map((run) =>
              renderRunRow(
                run,
                data.commits.get(run.commit),
                data.metrics.get(run.id) ?? {},
              ),
            )}
          </tbody>
        </table>
      </div>
      ${
        data.runs.length === 0
          ? html`<p>No runs match.</p>`
          : html`<p class="actions">
              <button type="submit">Compare selected runs</button>
            </p>`
      }
    </form>
    <nav class="pager" aria-label="pages">
      ${
        offset > 0
          ? html`<a href="/runs?${query(Math.max(0, offset - limit))}"
              >← newer</a
            >`
          : ''
      }
      <span class="muted"
        >${
          data.runs.length > 0
            ? `runs ${offset + 1}–${offset + data.runs.length}`
            : ''
        }</span
      >
      ${data.hasMore ? html`<a href="/runs?${query(offset + limit)}">older →</a>` : ''}
    </nav>
  </div>`;
}

function renderRunRow(
  run: RunRecord,
  commit: CommitInfo | undefined,
  metrics: Record<string, unknown>,
): SafeHtml {
  const branch = branchOf(run);
  const subject = commit?.subject ?? run.trigger?.message ?? '';
  return html`<tr data-run="${run.id}">
    <td>
      <input
        type="checkbox"
        name="r"
        value="${run.id}"
        aria-label="select run #${run.counter}"
      />
    </td>
    <td>
      <a href="/runs/${run.id}">#${run.counter} ${run.name}</a>
      <br /><small class="muted">${run.repository}</small>
    </td>
    <td>${statusBadge(run.status, 'run-status')}</td>
    <td>
      <span
        class="strip"
        role="img"
        aria-label="steps: ${graphNodesOf(run)
          .map((node) => `${node.name} ${node.status}`)
          .join(', ')}"
        >${graphNodesOf(run)
          .slice(0, 60)
          .map(
            (node) =>
              html`<i
                class="s-${node.status}"
                title="${node.name}: ${node.status}"
              ></i>`,
          )}</span
      >
    </td>
    <td>
      <code>${run.commit.slice(0, run.commit.startsWith('~') ? 9 : 7)}</code>
      ${subject ? html`<br /><small>${subject.slice(0, 80)}</small>` : ''}
    </td>
    <td>
      ${branch}${
        run.trigger?.pullRequest
          ? html` <small class="muted">PR #${run.trigger.pullRequest}</small>`
          : ''
      }
    </td>
    <td class="hide-narrow">
      ${run.trigger?.event ?? ''}${
        run.trigger?.sender ? html` by ${run.trigger.sender}` : ''
      }${
        commit && commit.author !== run.trigger?.sender
          ? html`<br /><small class="muted">author ${commit.author}</small>`
          : ''
      }
    </td>
    <td>${runDuration(run)}</td>
    <td class="hide-narrow">
      ${Object.entries(metrics)
        .slice(0, 3)
        .map(
          ([name, value]) =>
            html`<span class="mono">${name}=${metricValue(value)}</span><br />`,
        )}${
        run.status === 'error' && run.reason
          ? html`<small class="error">${run.reason.slice(0, 80)}</small>`
          : ''
      }
    </td>
    <td class="hide-narrow">${timeTag(run.createdAt)}</td>
  </tr>`;
}
