import { describe, expect, it } from 'vitest';
import { createFailedAttempts } from '../../../src/http/auth/failed-attempts.js';

describe('failed token attempts', () => {
  function attempts(limit = 3) {
    let now = 1_000_000;
    const tracker = createFailedAttempts({
      limit,
      windowMs: 60_000,
      maxClients: 2,
      now: () => now,
    });
    return {
      tracker,
      advance(ms: number) {
        now += ms;
      },
    };
  }

  it('refuses a client past the limit until its window ends', () => {
    const { tracker, advance } = attempts();
    for (let i = 0; i < 3; i += 1) {
      expect(tracker.retryAfterS('a')).toBe(0);
      tracker.fail('a');
    }

    expect(tracker.retryAfterS('a')).toBe(60);
    advance(59_500);
    expect(tracker.retryAfterS('a')).toBe(1);
    advance(500);
    expect(tracker.retryAfterS('a')).toBe(0);
  });

  it('counts each client alone', () => {
    const { tracker } = attempts(1);

    tracker.fail('a');

    expect(tracker.retryAfterS('a')).toBeGreaterThan(0);
    expect(tracker.retryAfterS('b')).toBe(0);
  });

  it('forgets the oldest client past its bound', () => {
    const { tracker } = attempts(1);

    tracker.fail('a');
    tracker.fail('b');
    tracker.fail('c');

    expect(tracker.retryAfterS('a')).toBe(0);
    expect(tracker.retryAfterS('c')).toBeGreaterThan(0);
  });
});
