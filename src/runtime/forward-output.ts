/**
 * Helpers every container runtime shares for a step's output and end: a
 * forwarder that keeps a throwing sink from taking the worker down, a gate
 * that applies the sink's backpressure to the output stream, a bounded
 * wait for the output to drain, a bounded health check.
 */
import type { Logger } from 'pino';
import type { OutputSink, RunResult } from './runtime.js';

export type RuntimeLogger = Pick<Logger, 'debug' | 'warn'>;

/** Returns the sink's `drained()`: a promise when it holds the output. */
export function createSinkForwarder(
  sink: OutputSink,
  logger: RuntimeLogger | undefined,
): (which: 'stdout' | 'stderr', chunk: Buffer) => Promise<void> | undefined {
  let warned = false;
  return (which, chunk) => {
    try {
      if (which === 'stdout') sink.stdout(chunk);
      else sink.stderr(chunk);
      return sink.drained?.();
    } catch (error) {
      // A throwing sink must not take the worker down from inside a stream
      // callback; the step keeps running and its outcome is still reported.
      if (!warned) {
        warned = true;
        logger?.warn({ err: error }, 'output sink threw; chunk dropped');
      }
      return undefined;
    }
  };
}

/**
 * The sink's backpressure on one step's output (`OutputSink`): `forward`
 * delivers a chunk, and while a promise of the sink's `drained` is pending
 * the output is paused (`pause` once when the first hold starts, `resume`
 * once when the last one settles) — unless the gate was opened (the step
 * is being stopped) or the hold lasted longer than `maxHoldMs`.
 */
export interface OutputGate {
  forward(which: 'stdout' | 'stderr', chunk: Buffer): void;
  /** True while the output is not read because the sink holds it. */
  isHeld(): boolean;
  /** Settles once nothing holds the output (at once when nothing does). */
  released(): Promise<void>;
  /**
   * Reads on for good whatever the sink says: called when kiln stops the
   * step, so that a slow sink never delays a stop (an engine may only see
   * the container end once its output was read).
   */
  open(): void;
}

export function createOutputGate(options: {
  sink: OutputSink;
  logger?: RuntimeLogger;
  /** Stop reading the step's output (may be called on an ended stream). */
  pause: () => void;
  resume: () => void;
  /**
   * A hold longer than this is not honoured: the output is read on (into
   * the sink) until the sink drained, then held again when it asks. For
   * engines that only see a container end once its output was read.
   * @defaultValue no bound
   */
  maxHoldMs?: number;
}): OutputGate {
  const deliver = createSinkForwarder(options.sink, options.logger);
  let holds = 0;
  let opened = false;
  let overridden = false;
  let timer: NodeJS.Timeout | undefined;
  let waiters: Array<() => void> = [];
  const paused = (): boolean => holds > 0 && !opened && !overridden;
  const override = (): void => {
    overridden = true;
    options.logger?.debug(
      { heldMs: options.maxHoldMs },
      'the output sink held a step output too long; reading on',
    );
    options.resume();
  };
  const release = (): void => {
    holds--;
    if (holds > 0) return;
    clearTimeout(timer);
    if (!opened && !overridden) options.resume();
    overridden = false;
    const settled = waiters;
    waiters = [];
    for (const resolve of settled) resolve();
  };
  return {
    forward(which, chunk) {
      const held = deliver(which, chunk);
      if (held === undefined) return;
      holds++;
      if (holds === 1 && !opened) {
        options.pause();
        if (options.maxHoldMs !== undefined) {
          timer = setTimeout(override, options.maxHoldMs);
        }
      }
      held.then(release, release);
    },
    isHeld: paused,
    released: () =>
      holds === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push(resolve)),
    open() {
      if (opened) return;
      const wasPaused = paused();
      opened = true;
      clearTimeout(timer);
      if (wasPaused) options.resume();
    },
  };
}

/**
 * True when `ended` settled within `ms` of time the output was not held
 * by the sink: after a step's end its last output drains only as fast as
 * the sink takes it, and is not cut off for being slow to store.
 */
export async function drainedWithin(
  ended: Promise<unknown>,
  ms: number,
  gate: Pick<OutputGate, 'isHeld' | 'released'>,
): Promise<boolean> {
  for (;;) {
    if (await settleWithin(ended, ms)) return true;
    if (!gate.isHeld()) return false;
    await Promise.race([gate.released(), ended]);
  }
}

/**
 * The longest an engine-backed runtime (Docker, Kubernetes) honours one
 * hold of the sink. The Docker engine gives the readers of a container's
 * output 2 s after the container exited to take the rest, then drops it
 * (and only then reports the exit); reading on after 1 s keeps a slow sink
 * from losing a step's last lines. Past it, the output is read into the
 * sink until the sink drained, then held again when it asks.
 */
export const ENGINE_MAX_HOLD_MS = 1_000;

/** True when `promise` settled within `ms`, false otherwise. */
export function settleWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.finally(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * True when `check` resolved within `ms`; false when it rejected or took
 * longer (a health check must answer, not hang).
 */
export async function answersWithin(
  check: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  const answered = check.then(
    () => true,
    () => false,
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([answered, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The result of a step stopped before anything was started for it. */
export function stoppedBeforeStart(): RunResult {
  const now = new Date();
  return {
    reason: { kind: 'stopped' },
    exitCode: null,
    startedAt: now,
    endedAt: now,
  };
}
