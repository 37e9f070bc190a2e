/**
 * Cron expressions and time zones of `trigger` schedules, read with
 * cron-parser — the library BullMQ's job schedulers use to compute each
 * tick, called with the same options, so a check here and a tick there
 * agree. Pure: time comes in as numbers (ms since the epoch).
 *
 * Accepted: 5 fields (minute hour day-of-month month day-of-week), 6 fields
 * with seconds first, or one of cron-parser's `@` names (`@hourly`,
 * `@daily`, `@weekly`, `@monthly`, `@yearly`…).
 */
import { CronExpressionParser } from 'cron-parser';
import { formatSuggestion } from './closest-name.js';

/** The time zone a schedule uses when it names none. */
export const DEFAULT_TIME_ZONE = 'UTC';

/** Ticks counted at most between two times (a long outage stays cheap). */
const maxTicksCounted = 100_000;

/** Why `zone` is not a time zone kiln can use, or null when it is. */
export function describeTimeZoneProblem(zone: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return null;
  } catch {
    return `${JSON.stringify(zone)} is not a time zone: use an IANA name such as "Europe/Helsinki" or "UTC"${formatSuggestion(zone, knownTimeZones())}`;
  }
}

/** Why `expression` is not a cron expression kiln runs, or null when it is. */
export function describeCronProblem(expression: string): string | null {
  const text = expression.trim();
  const fields = text.split(/\s+/).filter((field) => field !== '');
  const hint =
    'write 5 fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * *", or 6 with seconds first';
  if (fields.length === 0) return `the cron expression is empty: ${hint}`;
  if (!text.startsWith('@') && fields.length !== 5 && fields.length !== 6) {
    return `${JSON.stringify(expression)} has ${fields.length} field${fields.length === 1 ? '' : 's'}: ${hint}`;
  }
  try {
    CronExpressionParser.parse(text, { tz: DEFAULT_TIME_ZONE }).next();
    return null;
  } catch (error) {
    return `${JSON.stringify(expression)} is not a valid cron expression (${(error as Error).message}): ${hint}`;
  }
}

export interface CronTiming {
  cron: string;
  timezone: string;
}

/** The first tick strictly after `after`, or null when there is none. */
export function nextTick(timing: CronTiming, after: number): number | null {
  try {
    const interval = CronExpressionParser.parse(timing.cron, {
      tz: timing.timezone,
      currentDate: new Date(after),
    });
    return interval.next().getTime();
  } catch {
    return null;
  }
}

/**
 * The ticks in `(after, until]`: how many, and the last one. Counting
 * stops at 100,000 (a schedule every second down for a day).
 */
export function ticksBetween(
  timing: CronTiming,
  after: number,
  until: number,
): { count: number; last: number | null } {
  let count = 0;
  let last: number | null = null;
  let cursor = after;
  while (count < maxTicksCounted) {
    const next = nextTick(timing, cursor);
    if (next === null || next > until) break;
    count += 1;
    last = next;
    cursor = next;
  }
  return { count, last };
}

function knownTimeZones(): string[] {
  return [DEFAULT_TIME_ZONE, ...Intl.supportedValuesOf('timeZone')];
}
