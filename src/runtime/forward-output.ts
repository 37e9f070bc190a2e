/**
 * Helpers every container runtime shares for a step's output and end: a
 * forwarder that keeps a throwing sink from taking the worker down, and a
 * bounded wait for the output to drain.
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
