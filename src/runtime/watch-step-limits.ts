/**
 * The stop policy shared by the Docker and local runtimes: a wall-clock
 * limit, a no-output limit and an abort signal all lead to the same
 * sequence — SIGTERM, a grace period, then SIGKILL — and the first cause
 * wins the reported reason.
 */
import type { EndReason } from '../model/end-reason.js';

export type StopReason = Extract<
  EndReason,
  | { kind: 'timed-out' }
  | { kind: 'no-output' }
  | { kind: 'stopped' }
  | { kind: 'disk-limit' }
>;

export type StopSignal = 'SIGTERM' | 'SIGKILL';

export interface WatchStepLimitsOptions {
  timeLimitMs?: number;
  /**
   * How long the step had already run when the watch began (its container
   * started before): the limit fires that much sooner, and the end still
   * names the whole limit. @defaultValue 0
   */
  alreadyRanMs?: number;
  noOutputTimeoutMs?: number;
  /** @defaultValue 10000 */
  stopGraceMs?: number;
  signal?: AbortSignal;
  /**
   * True while kiln itself stopped reading the step's output (the sink
   * holds it, `OutputSink`): a step blocked on its full pipe is not quiet,
   * so the no-output limit does not count that time.
   */
  outputHeld?: () => boolean;
  /**
   * Delivers a signal to the step. Called at most twice (SIGTERM, then
   * SIGKILL after the grace); failures are the caller's to swallow, since
   * the step may have exited in between.
   */
  sendSignal: (signal: StopSignal) => Promise<void>;
}

/**
 * Lifecycle: `watchStepLimits` once the step has started, `noteOutput` on
 * every chunk (cheap: no timer is re-created per chunk), `dispose` exactly
 * once after the step exited (clears every timer, idempotent).
 */
export interface StepLimitWatch {
  noteOutput(): void;
  /**
   * Stops the step for a reason found elsewhere (a disk limit): the same
   * SIGTERM, grace, SIGKILL; the first reason wins.
   */
  stop(reason: StopReason): void;
  /** Why kiln stopped the step, or null when it ended by itself. */
  stopReason(): StopReason | null;
  dispose(): void;
}

const DEFAULT_STOP_GRACE_MS = 10_000;

export function watchStepLimits(
  options: WatchStepLimitsOptions,
): StepLimitWatch {
  const graceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
  let reason: StopReason | null = null;
  let disposed = false;
  let lastOutputAt = performance.now();
  const timers = new Set<NodeJS.Timeout>();

  function schedule(callback: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      callback();
    }, delayMs);
    timers.add(timer);
  }

  function deliver(signal: StopSignal): void {
    if (disposed) return;
    options.sendSignal(signal).catch(() => {
      // The step may already be gone; `dispose` follows its exit.
    });
  }

  function stop(cause: StopReason): void {
    if (disposed || reason !== null) return;
    reason = cause;
    deliver('SIGTERM');
    schedule(() => deliver('SIGKILL'), graceMs);
  }

  function onAbort(): void {
    stop({ kind: 'stopped' });
  }

  if (options.timeLimitMs !== undefined) {
    const afterMs = options.timeLimitMs;
    schedule(
      () => stop({ kind: 'timed-out', afterMs }),
      Math.max(0, afterMs - (options.alreadyRanMs ?? 0)),
    );
  }

  if (options.noOutputTimeoutMs !== undefined) {
    const afterMs = options.noOutputTimeoutMs;
    // Re-arms for the remaining quiet time instead of resetting a timer on
    // every chunk: a chatty step prints thousands of chunks a second.
    const check = (): void => {
      if (options.outputHeld?.() === true) lastOutputAt = performance.now();
      const quietMs = performance.now() - lastOutputAt;
      if (quietMs >= afterMs) stop({ kind: 'no-output', afterMs });
      else schedule(check, Math.max(1, afterMs - quietMs));
    };
    schedule(check, afterMs);
  }

  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  return {
    noteOutput() {
      lastOutputAt = performance.now();
    },
    stop,
    stopReason() {
      return reason;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      options.signal?.removeEventListener('abort', onAbort);
    },
  };
}
