import type { ScheduleTick } from './schedule.js';

/**
 * One line saying what a tick did, for `kiln schedules` and the pages:
 * `run tabc… of 1a2b3c4d5e6f`, `missed — 4 ticks from … to … (missed: skip)`.
 */
export function describeTick(tick: ScheduleTick): string {
  const missed = tick.missed
    ? `${tick.missed.count} tick${tick.missed.count === 1 ? '' : 's'} passed while no kiln server ran (${tick.missed.first} to ${tick.missed.last})`
    : '';
  switch (tick.outcome) {
    case 'run':
      return `run ${tick.runId ?? ''}${tick.commit ? ` of ${tick.commit.slice(0, 12)}` : ''}${missed ? ` — late, once for ${missed}` : ''}`;
    case 'missed':
      return `missed — ${missed || 'no kiln server was running'}; not run (missed: skip)`;
    case 'pending':
      return `being handled${missed ? ` — late: ${missed}` : ''}`;
    case 'skipped':
    case 'failed':
      return `${tick.outcome} — ${tick.reason ?? 'no reason recorded'}`;
  }
}
