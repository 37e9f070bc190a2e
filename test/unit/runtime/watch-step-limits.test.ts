import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchStepLimits } from '../../../src/runtime/watch-step-limits.js';
import type { StopSignal } from '../../../src/runtime/watch-step-limits.js';

describe('watchStepLimits', () => {
  let signals: StopSignal[];
  const sendSignal = async (signal: StopSignal) => {
    signals.push(signal);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    signals = [];
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends SIGTERM at the time limit and SIGKILL after the grace', () => {
    const watch = watchStepLimits({
      timeLimitMs: 1000,
      stopGraceMs: 500,
      sendSignal,
    });

    vi.advanceTimersByTime(999);
    const before = [...signals];
    vi.advanceTimersByTime(1);
    const atLimit = [...signals];
    vi.advanceTimersByTime(500);

    expect(before).toEqual([]);
    expect(atLimit).toEqual(['SIGTERM']);
    expect(signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(watch.stopReason()).toEqual({ kind: 'timed-out', afterMs: 1000 });
    watch.dispose();
  });

  it('fires sooner for the time the step already ran, and names the whole limit', () => {
    const watch = watchStepLimits({
      timeLimitMs: 1000,
      alreadyRanMs: 3,
      sendSignal,
    });

    vi.advanceTimersByTime(996);
    const before = [...signals];
    vi.advanceTimersByTime(1);

    expect(before).toEqual([]);
    expect(signals).toEqual(['SIGTERM']);
    expect(watch.stopReason()).toEqual({ kind: 'timed-out', afterMs: 1000 });
    watch.dispose();
  });

  it('restarts the no-output clock on output', () => {
    const watch = watchStepLimits({ noOutputTimeoutMs: 1000, sendSignal });

    vi.advanceTimersByTime(800);
    watch.noteOutput();
    vi.advanceTimersByTime(800);
    const afterOutput = watch.stopReason();
    vi.advanceTimersByTime(200);

    expect(afterOutput).toBeNull();
    expect(watch.stopReason()).toEqual({ kind: 'no-output', afterMs: 1000 });
    expect(signals).toEqual(['SIGTERM']);
    watch.dispose();
  });

  it('stops on abort, and the first cause wins', () => {
    const abort = new AbortController();
    const watch = watchStepLimits({
      timeLimitMs: 1000,
      signal: abort.signal,
      sendSignal,
    });

    abort.abort();
    vi.advanceTimersByTime(1000);

    expect(watch.stopReason()).toEqual({ kind: 'stopped' });
    expect(signals).toEqual(['SIGTERM']);
    watch.dispose();
  });

  it('sends nothing once disposed', () => {
    const watch = watchStepLimits({
      timeLimitMs: 1000,
      stopGraceMs: 500,
      sendSignal,
    });

    vi.advanceTimersByTime(1000);
    watch.dispose();
    vi.advanceTimersByTime(10_000);

    expect(signals).toEqual(['SIGTERM']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
