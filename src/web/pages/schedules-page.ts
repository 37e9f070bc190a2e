/**
 * The Schedules page (every schedule, its next tick and latest ticks) and
 * one schedule's page (all its recorded ticks). Ticks missed while no kiln
 * server ran are marked, whether they were run once or skipped.
 */
import { describeTick } from '../../model/describe-tick.js';
import type { ScheduleTick, ScheduleView } from '../../model/schedule.js';
import { html, raw, type SafeHtml } from '../html.js';

// Own classes, so the page keeps its look whatever the shared stylesheet does.
const style = raw(`<style>
.sched-table td, .sched-table th { vertical-align: top; }
.sched-tick { display: inline-block; margin: 0 .3em .3em 0; padding: 0 .4em; border-radius: 3px; background: #e5e7eb; white-space: nowrap; }
.sched-tick-run { background: #bbf7d0; }
.sched-tick-missed { background: #fde68a; }
.sched-tick-failed { background: #fecaca; }
.sched-tick-pending { background: #bfdbfe; }
.sched-late { font-weight: 600; }
.sched-meta dt { font-weight: 600; } .sched-meta dd { margin: 0 0 .4em 0; }
</style>`);

export interface SchedulesPageData {
  schedules: ScheduleView[];
  repository?: string;
  /** Now (ms), for "in 3 h". */
  now: number;
}

export function renderSchedulesPage(data: SchedulesPageData): SafeHtml {
  const { schedules, now } = data;
  return html`${style}
    <p>
      A schedule is a <code>trigger</code> with a <code>schedule</code> in a
      branch's <code>kiln.yaml</code>, taken from each push to that branch; each
      tick runs the branch head.
    </p>
    <form method="get" action="/schedules" class="filters">
      <label
        >repository
        <input name="repository" value="${data.repository ?? ''}" /></label
      ><button>filter</button>
    </form>
    ${
      schedules.length === 0
        ? html`<p class="empty">
            No schedules${data.repository ? html` for ${data.repository}` : ''}
            yet: add a trigger with a schedule to kiln.yaml and push it.
          </p>`
        : html`<table class="sched-table" data-schedules>
            <thead>
              <tr>
                <th>repository</th>
                <th>branch</th>
                <th>trigger</th>
                <th>runs</th>
                <th>when</th>
                <th>missed ticks</th>
                <th>next tick</th>
                <th>latest ticks</th>
              </tr>
            </thead>
            <tbody>
              ${schedules.map(
                (schedule) =>
                  html`<tr data-schedule="${schedule.id}">
                    <td>${schedule.repository}</td>
                    <td>${schedule.branch}</td>
                    <td>
                      <a href="/schedules/${schedule.id}"
                        >${schedule.trigger}</a
                      >
                    </td>
                    <td>${schedule.run}</td>
                    <td>
                      <code>${schedule.cron}</code><br />${schedule.timezone}
                    </td>
                    <td>${schedule.missed}</td>
                    <td data-next-tick="${schedule.nextTickAt ?? ''}">
                      ${renderNextTick(schedule.nextTickAt, now)}
                    </td>
                    <td>
                      ${
                        schedule.ticks.length === 0
                          ? 'none yet'
                          : schedule.ticks.map(renderTickChip)
                      }
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}

export function renderSchedulePage(
  schedule: ScheduleView,
  now: number,
): SafeHtml {
  return html`${style}
    <dl class="sched-meta" data-schedule="${schedule.id}">
      <dt>repository and branch</dt>
      <dd>
        <a
          href="/runs?repository=${encodeURIComponent(schedule.repository)}&branch=${encodeURIComponent(schedule.branch)}"
          >${schedule.repository} ${schedule.branch}</a
        >
      </dd>
      <dt>runs</dt>
      <dd>
        ${schedule.run}${
          Object.keys(schedule.parameters).length > 0
            ? html` with <code>${JSON.stringify(schedule.parameters)}</code>`
            : ''
        }
      </dd>
      <dt>when</dt>
      <dd><code>${schedule.cron}</code> (${schedule.timezone})</dd>
      <dt>ticks missed while kiln was down</dt>
      <dd>
        ${
          schedule.missed === 'skip'
            ? 'skipped (missed: skip)'
            : 'run once when kiln is back (missed: run-once)'
        }
      </dd>
      <dt>next tick</dt>
      <dd data-next-tick="${schedule.nextTickAt ?? ''}">
        ${renderNextTick(schedule.nextTickAt, now)}
      </dd>
      <dt>taken from</dt>
      <dd>
        ${schedule.configFile} at
        <code>${schedule.commit.slice(0, 12)}</code>, pushed
        ${formatTime(schedule.updatedAt)} UTC
      </dd>
    </dl>
    <h2>Ticks</h2>
    ${
      schedule.ticks.length === 0
        ? html`<p class="empty">No ticks yet.</p>`
        : html`<table class="sched-table" data-ticks>
            <thead>
              <tr>
                <th>tick (UTC)</th>
                <th>outcome</th>
                <th>run</th>
                <th>commit</th>
                <th>ticks missed while kiln was down</th>
                <th>handled (UTC)</th>
                <th>details</th>
              </tr>
            </thead>
            <tbody>
              ${schedule.ticks.map(
                (tick) =>
                  html`<tr
                    data-tick="${tick.at}"
                    data-outcome="${tick.outcome}"
                  >
                    <td>${formatTime(tick.at)}</td>
                    <td>
                      <span class="sched-tick sched-tick-${tick.outcome}"
                        >${tick.outcome}</span
                      >
                    </td>
                    <td>
                      ${
                        tick.runId
                          ? html`<a href="/runs/${tick.runId}"
                              >${tick.runId}</a
                            >`
                          : ''
                      }
                    </td>
                    <td><code>${(tick.commit ?? '').slice(0, 12)}</code></td>
                    <td class="${tick.missed ? 'sched-late' : ''}">
                      ${
                        tick.missed
                          ? `${tick.missed.count} tick${tick.missed.count === 1 ? '' : 's'}, ${formatTime(tick.missed.first)} to ${formatTime(tick.missed.last)}`
                          : ''
                      }
                    </td>
                    <td>${formatTime(tick.handledAt)}</td>
                    <td>${tickDetails(tick)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}

function renderTickChip(tick: ScheduleTick): SafeHtml {
  const label = tick.missed
    ? `${tick.outcome === 'run' ? 'ran once for' : 'missed'} ${tick.missed.count}`
    : tick.outcome;
  const chip = html`<span
    class="sched-tick sched-tick-${
      tick.missed && tick.outcome === 'run' ? 'missed' : tick.outcome
    }"
    title="${tick.at} ${describeTick(tick)}"
    data-outcome="${tick.outcome}"
    >${formatTime(tick.at)} ${label}</span
  >`;
  return tick.runId ? html`<a href="/runs/${tick.runId}">${chip}</a>` : chip;
}

function renderNextTick(at: string | null, now: number): SafeHtml {
  if (at === null) return html`none planned`;
  const ms = Date.parse(at) - now;
  return html`${formatTime(at)} UTC<br /><small
      >${ms <= 0 ? 'due now' : `in ${formatDuration(ms)}`}</small
    >`;
}

/** `2026-03-05 07:00:00` (UTC), as the tables show times. */
function formatTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

function tickDetails(tick: ScheduleTick): string {
  if (tick.outcome === 'run')
    return tick.missed
      ? 'late: one run for the ticks that passed while no kiln server ran (missed: run-once)'
      : '';
  if (tick.outcome === 'missed') return 'not run (missed: skip)';
  return tick.reason ?? '';
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.round(hours / 24)} days`;
}
