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
 * is being stopped), and for `trickleBytes` after each `maxHoldMs` held.
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
   * A hold longer than this is eased: `trickleBytes` more are read (into
   * the sink), then the output is paused again for as long. For engines
   * that drop a container's last output when it is not read soon after
   * the exit. @defaultValue no bound
   */
  maxHoldMs?: number;
  /** @defaultValue `ENGINE_HOLD_TRICKLE_BYTES` */
  trickleBytes?: number;
}): OutputGate {
  const deliver = createSinkForwarder(options.sink, options.logger);
  const trickleBytes = options.trickleBytes ?? ENGINE_HOLD_TRICKLE_BYTES;
  let holds = 0;
  let opened = false;
  let easing = false;
  let allowance = 0;
  let paused = false;
  let timer: NodeJS.Timeout | undefined;
  let waiters: Array<() => void> = [];
  const sync = (): void => {
    const wanted = holds > 0 && !opened && !easing;
    if (wanted === paused) return;
    paused = wanted;
    clearTimeout(timer);
    if (!wanted) {
      options.resume();
      return;
    }
    options.pause();
    if (options.maxHoldMs !== undefined) {
      timer = setTimeout(() => {
        easing = true;
        allowance = trickleBytes;
        sync();
      }, options.maxHoldMs);
    }
  };
  const release = (): void => {
    holds--;
    if (holds > 0) return;
    easing = false;
    sync();
    const settled = waiters;
    waiters = [];
    for (const resolve of settled) resolve();
  };
  return {
    forward(which, chunk) {
      const held = deliver(which, chunk);
      if (easing) {
        allowance -= chunk.length;
        if (allowance <= 0) easing = false;
      }
      if (held !== undefined) {
        holds++;
        held.then(release, release);
      }
      sync();
    },
    isHeld: () => paused,
    released: () =>
      holds === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push(resolve)),
    open() {
      opened = true;
      sync();
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
 * The longest an engine-backed runtime (Docker, Kubernetes) holds a step's
 * output at a time. Held for seconds around a container's exit, Docker
 * lost the end of its output (the L6 benchmark, docs/benchmarks.md): the
 * engine does not wait long for a slow reader once the container exited.
 * So after 1 s of a hold `ENGINE_HOLD_TRICKLE_BYTES` more are read (more
 * than the pipes between the step and kiln hold), then the output is held
 * again: a sink that stays slow lets a step go on at 256 KiB/s at most.
 */
export const ENGINE_MAX_HOLD_MS = 1_000;
export const ENGINE_HOLD_TRICKLE_BYTES = 256 * 1024;

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
