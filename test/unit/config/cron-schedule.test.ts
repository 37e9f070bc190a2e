import { describe, expect, it } from 'vitest';
import {
  describeCronProblem,
  describeTimeZoneProblem,
  nextTick,
  ticksBetween,
} from '../../../src/config/cron-schedule.js';
import { loadConfig } from '../../../src/config/load-config.js';

const at = (iso: string) => Date.parse(iso);

describe('describeCronProblem', () => {
  it.each([
    '0 3 * * *',
    '*/15 * * * *',
    '30 2 * * 1-5',
    '0 0 1 */3 *',
    '*/2 * * * * *',
    '@daily',
    '@hourly',
  ])('accepts %s', (expression) => {
    expect(describeCronProblem(expression)).toBeNull();
  });

  it.each([
    ['', 'the cron expression is empty'],
    ['0 * * *', '"0 * * *" has 4 fields'],
    ['0 3 * * * * *', 'has 7 fields'],
    ['61 * * * *', 'expected range 0-59'],
    ['0 25 * * *', 'expected range 0-23'],
    ['0 3 31 2 *', 'not a valid cron expression'],
    ['every day', 'has 2 fields'],
    ['@sometimes', 'not a valid cron expression'],
  ])('refuses %j, saying %s', (expression, part) => {
    const problem = describeCronProblem(expression);

    expect(problem).toContain(part);
    expect(problem).toContain('e.g. "0 3 * * *"');
  });
});

describe('describeTimeZoneProblem', () => {
  it.each(['UTC', 'Europe/Helsinki', 'America/New_York', 'Asia/Kolkata'])(
    'accepts %s',
    (zone) => {
      expect(describeTimeZoneProblem(zone)).toBeNull();
    },
  );

  it('refuses a misspelt zone with a suggestion', () => {
    expect(describeTimeZoneProblem('Europe/Helsnki')).toBe(
      '"Europe/Helsnki" is not a time zone: use an IANA name such as "Europe/Helsinki" or "UTC" — did you mean "Europe/Helsinki"?',
    );
  });

  it.each(['Mars/Olympus', '+02:00', ''])('refuses %j', (zone) => {
    expect(describeTimeZoneProblem(zone)).toContain('is not a time zone');
  });
});

describe('nextTick and ticksBetween', () => {
  it('ticks in the schedule’s time zone, across a daylight-saving change', () => {
    const timing = { cron: '0 3 * * *', timezone: 'Europe/Helsinki' };

    // 03:00 in Helsinki is 01:00 UTC in winter (EET) and 00:00 in summer.
    expect(nextTick(timing, at('2026-03-27T12:00:00Z'))).toBe(
      at('2026-03-28T01:00:00Z'),
    );
    expect(nextTick(timing, at('2026-03-29T12:00:00Z'))).toBe(
      at('2026-03-30T00:00:00Z'),
    );
  });

  it('supports a seconds field (the tests’ fast clock)', () => {
    const timing = { cron: '*/2 * * * * *', timezone: 'UTC' };

    expect(nextTick(timing, at('2026-01-01T00:00:00Z'))).toBe(
      at('2026-01-01T00:00:02Z'),
    );
  });

  it('counts the ticks in (after, until] and gives the last one', () => {
    const timing = { cron: '*/5 * * * *', timezone: 'UTC' };

    expect(
      ticksBetween(
        timing,
        at('2026-01-01T00:00:00Z'),
        at('2026-01-01T00:17:00Z'),
      ),
    ).toEqual({ count: 3, last: at('2026-01-01T00:15:00Z') });
    expect(
      ticksBetween(
        timing,
        at('2026-01-01T00:00:00Z'),
        at('2026-01-01T00:04:59Z'),
      ),
    ).toEqual({ count: 0, last: null });
  });

  it('stops counting at 100,000 ticks', () => {
    const timing = { cron: '* * * * * *', timezone: 'UTC' };

    const { count } = ticksBetween(
      timing,
      at('2026-01-01T00:00:00Z'),
      at('2026-01-03T00:00:00Z'),
    );

    expect(count).toBe(100_000);
  });
});

describe('a trigger with a schedule', () => {
  const text = (
    schedule: string,
  ) => `- step: {name: train, image: busybox:1, command: echo}
- trigger:
    name: nightly
    schedule: ${schedule}
    run: train
`;

  it('never matches a push or pull request, and has the defaults filled in', () => {
    const loaded = loadConfig(text("{cron: '0 3 * * *'}"), { file: 'k.yaml' });

    expect(loaded.valid).toBe(true);
    expect(loaded.config.triggers[0]).toMatchObject({
      name: 'nightly',
      on: [],
      schedule: { cron: '0 3 * * *', timezone: 'UTC', missed: 'run-once' },
    });
    expect(loaded.config.triggers[0]?.schedule?.branch).toBeUndefined();
  });

  it('keeps the branch, time zone and missed policy it names', () => {
    const loaded = loadConfig(
      text(
        "{cron: '0 3 * * *', timezone: Europe/Helsinki, branch: release/2, missed: skip}",
      ),
      { file: 'k.yaml' },
    );

    expect(loaded.config.triggers[0]?.schedule).toEqual({
      cron: '0 3 * * *',
      timezone: 'Europe/Helsinki',
      branch: 'release/2',
      missed: 'skip',
    });
  });

  it('is an error when "schedule" is not a mapping', () => {
    const loaded = loadConfig(text("'0 3 * * *'"), { file: 'k.yaml' });

    expect(loaded.valid).toBe(false);
    expect(loaded.findings.map((finding) => finding.message)).toEqual([
      expect.stringContaining('"schedule" must be'),
    ]);
  });
});
