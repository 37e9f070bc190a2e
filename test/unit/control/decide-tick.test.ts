import { describe, expect, it } from 'vitest';
import { decideTick } from '../../../src/control/run-schedule-tick.js';

const at = (iso: string) => Date.parse(iso);
const everyFiveMinutes = { cron: '*/5 * * * *', timezone: 'UTC' };
const tickAt = at('2026-01-01T10:00:00Z');

describe('decideTick: on time, or late and what the policy says', () => {
  it.each([
    ['at the tick', '2026-01-01T10:00:00Z'],
    ['late, but before the next tick is due', '2026-01-01T10:04:59.999Z'],
  ])('runs a tick handled %s', (_what, takenAt) => {
    for (const missed of ['skip', 'run-once'] as const) {
      const tick = decideTick(
        { ...everyFiveMinutes, missed },
        { tickAt, takenAt: at(takenAt) },
      );

      expect(tick).toEqual({
        at: '2026-01-01T10:00:00.000Z',
        outcome: 'pending',
        handledAt: new Date(at(takenAt)).toISOString(),
      });
    }
  });

  it.each<[string, 'skip' | 'run-once', string, number, string]>([
    [
      'once the next tick is due',
      'run-once',
      '2026-01-01T10:05:00Z',
      2,
      '10:05',
    ],
    ['once the next tick is due', 'skip', '2026-01-01T10:05:00Z', 2, '10:05'],
    ['after an hour down', 'run-once', '2026-01-01T11:02:00Z', 13, '11:00'],
    ['after an hour down', 'skip', '2026-01-01T11:02:00Z', 13, '11:00'],
  ])(
    'counts the ticks that passed %s (missed: %s)',
    (_what, missed, takenAt, count, last) => {
      const tick = decideTick(
        { ...everyFiveMinutes, missed },
        { tickAt, takenAt: at(takenAt) },
      );

      expect(tick.outcome).toBe(missed === 'skip' ? 'missed' : 'pending');
      expect(tick.missed).toEqual({
        count,
        first: '2026-01-01T10:00:00.000Z',
        last: `2026-01-01T${last}:00.000Z`,
      });
    },
  );
});
