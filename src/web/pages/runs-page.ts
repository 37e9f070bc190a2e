/** The runs list: filters, newest first, pages, state and key metrics. */
import type { ExecutionRecord } from '../../model/execution.js';
import type { RunRecord } from '../../model/run.js';
import { html, type SafeHtml } from '../html.js';

export interface RunsPageData {
  runs: RunRecord[];
  /** Latest execution per run, for its key metrics. */
  latest: Map<string, ExecutionRecord | undefined>;
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
  /** The global event stream's id when the list was read: live from there. */
  eventsAfter?: string;
}

export function renderRunsPage(data: RunsPageData): SafeHtml {
  const { filters, offset, limit } = data;
  const query = (at: number) =>
    new URLSearchParams({
      ...Object.fromEntries(
        Object.entries(filters).filter(([, value]) => value),
      ),
      offset: String(at),
    }).toString();
  return html`<form class="filters" method="get" action="/runs">
      <input
        name="repository"
        placeholder="owner/repo"
        value="${filters.repository ?? ''}"
      />
      <input
        name="branch"
        placeholder="branch"
        value="${filters.branch ?? ''}"
      />
      <input
        name="commit"
        placeholder="commit SHA"
        value="${filters.commit ?? ''}"
      />
      <select name="state">
        <option value="">any state</option>
        ${data.states.map(
          (state) =>
            html`<option
              value="${state}"
              ${state === filters.state ? html`selected` : ''}
            >
              ${state}
            </option>`,
        )}
      </select>
      <button>Filter</button>
    </form>
    <table
      class="runs"
      ${data.eventsAfter ? html`data-live-runs data-after="${data.eventsAfter}" data-first-page="${offset === 0 && !Object.values(filters).some(Boolean) ? 'true' : 'false'}"` : ''}
    >
      <thead>
        <tr>
          <th>run</th>
          <th>repository</th>
          <th>branch</th>
          <th>commit</th>
          <th>name</th>
          <th>state</th>
          <th>metrics</th>
          <th>created</th>
        </tr>
      </thead>
      <tbody>
        ${data.runs.map((run) => {
          const metrics = Object.entries(
            data.latest.get(run.id)?.metrics ?? {},
          ).slice(0, 3);
          return html`<tr data-run="${run.id}">
            <td><a href="/runs/${run.id}">#${run.counter}</a></td>
            <td>${run.repository}</td>
            <td>${run.ref ?? ''}</td>
            <td><code>${run.commit.slice(0, 12)}</code></td>
            <td>${run.name}</td>
            <td>
              <span class="status status-${run.status}" data-run-status
                >${run.status}</span
              >
            </td>
            <td>
              ${metrics.map(([key, value]) => html`${key}=${String(value)} `)}
            </td>
            <td>${run.createdAt}</td>
          </tr>`;
        })}
      </tbody>
    </table>
    ${data.runs.length === 0 ? html`<p>No runs match.</p>` : ''}
    <p>
      ${offset > 0 ? html`<a href="/runs?${query(Math.max(0, offset - limit))}">newer</a> ` : ''}${data.hasMore ? html`<a href="/runs?${query(offset + limit)}">older</a>` : ''}
    </p>`;
}
