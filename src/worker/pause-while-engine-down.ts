/**
 * Keeps a worker from taking steps while its container engine does not
 * answer (reliability plan F15). A step taken then fails before it starts
 * and burns one of its job's retries in seconds; after the last one the
 * run ends in error although nothing of the user's ran. Paused, the jobs
 * wait in the queue, for this worker's engine to come back or for another
 * worker. Steps already running are the runtime's own engine watch's
 * (run-container's `engineLostMs`).
 *
 * Called once by the worker role after the step worker starts; `stop()`
 * before closing it. `check()` may be called at any time (a job that just
 * failed is a good moment) and is idempotent: it only acts on a change.
 */
import type { Logger } from 'pino';

export interface PausableWorker {
  /** BullMQ's `Worker.pause(doNotWaitActive)`: take no new jobs. */
  pause(doNotWaitActive?: boolean): Promise<void>;
  resume(): void;
}

export interface PauseWhileEngineDownOptions {
  worker: PausableWorker;
  /** The runtime's bounded ping (`Runtime.ping`). */
  ping: () => Promise<boolean>;
  logger: Logger;
  /** @defaultValue 5000 */
  everyMs?: number;
}

export interface EngineWatch {
  check(): Promise<void>;
  stop(): void;
}

export function pauseWhileEngineDown(
  options: PauseWhileEngineDownOptions,
): EngineWatch {
  const { worker, ping, logger } = options;
  let paused = false;
  let checking: Promise<void> | null = null;
  let stopped = false;

  async function look(): Promise<void> {
    const answers = await ping().catch(() => false);
    if (stopped) return;
    if (!answers && !paused) {
      paused = true;
      logger.warn(
        'the container engine does not answer: this worker takes no steps until it does (they wait in the queue)',
      );
      await worker.pause(true);
    } else if (answers && paused) {
      paused = false;
      logger.info('the container engine answers again: taking steps');
      worker.resume();
    }
  }

  // One look at a time: a slow ping is not stacked up by the timer.
  function check(): Promise<void> {
    checking ??= look().finally(() => {
      checking = null;
    });
    return checking;
  }

  const timer = setInterval(() => {
    check().catch((error: unknown) =>
      logger.warn({ err: error }, 'engine check failed'),
    );
  }, options.everyMs ?? 5_000);
  timer.unref();
  return {
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
