/**
 * Helpers every container runtime shares for a step's output and end: a
 * forwarder that keeps a throwing sink from taking the worker down, a
 * bounded wait for the output to drain, a bounded health check.
 */
import type { Logger } from 'pino';
import type { OutputSink, RunResult } from './runtime.js';

export type RuntimeLogger = Pick<Logger, 'debug' | 'warn'>;

export function createSinkForwarder(
  sink: OutputSink,
  logger: RuntimeLogger | undefined,
): (which: 'stdout' | 'stderr', chunk: Buffer) => void {
  let warned = false;
  return (which, chunk) => {
    try {
      if (which === 'stdout') sink.stdout(chunk);
      else sink.stderr(chunk);
    } catch (error) {
      // A throwing sink must not take the worker down from inside a stream
      // callback; the step keeps running and its outcome is still reported.
      if (!warned) {
        warned = true;
        logger?.warn({ err: error }, 'output sink threw; chunk dropped');
      }
    }
  };
}

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
