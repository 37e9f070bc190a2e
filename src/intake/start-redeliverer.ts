/**
 * Runs the redeliverer (redeliver-failed-deliveries.ts) on a server: one
 * pass as the server starts — the moment deliveries GitHub could not hand
 * to a stopped kiln are wanted back — then one every `intervalMs`. Every
 * server runs this, and one pass happens at a time across all of them:
 * a pass holds `redeliverLock` (with-redis-lock.ts), and a timed pass is
 * skipped while `redeliverRecent` says another server did one less than an
 * interval ago (Redis' clock: no skew between hosts).
 *
 * Contract: `close()` stops the timer, makes a pass in progress stop
 * asking (what it left waits for the next pass) and waits for it.
 * A pass that fails is logged and tried again at the next interval.
 */
import type { Logger } from 'pino';
import {
  redeliverFailedDeliveries,
  type RedeliverFailedDeliveriesDeps,
  type RedeliverFailedDeliveriesOptions,
  type SourcePassSummary,
} from './redeliver-failed-deliveries.js';
import { withRedisLock } from '../redis/with-redis-lock.js';

export interface StartRedelivererOptions
  extends RedeliverFailedDeliveriesDeps, RedeliverFailedDeliveriesOptions {
  logger: Logger;
  /** Time between passes (> 0). */
  intervalMs: number;
}

export interface Redeliverer {
  /**
   * Runs a pass now unless another server is doing one (then `null`),
   * whenever the last one was. The start pass is one of these.
   */
  runPass(): Promise<SourcePassSummary[] | null>;
  close(): Promise<void>;
}

export function startRedeliverer(
  options: StartRedelivererOptions,
): Redeliverer {
  const { redis, keys, logger, intervalMs } = options;
  let running: Promise<SourcePassSummary[] | null> | undefined;
  const stopping = new AbortController();

  const runPass = (): Promise<SourcePassSummary[] | null> => {
    running ??= (async () => {
      try {
        const result = await withRedisLock(
          redis,
          { key: keys.redeliverLock, ttlMs: 30_000 },
          async () => {
            const summaries = await redeliverFailedDeliveries(options, {
              ...options,
              signal: stopping.signal,
            });
            // A little under the interval: the next timed pass, on whichever
            // server, is not skipped for a few milliseconds' difference.
            await redis.set(
              keys.redeliverRecent,
              String(Date.now()),
              'PX',
              Math.max(1, intervalMs - Math.min(1000, intervalMs / 10)),
            );
            return summaries;
          },
        );
        return result.locked ? result.value : null;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const timedPass = async (): Promise<void> => {
    if (stopping.signal.aborted || running) return;
    if ((await redis.exists(keys.redeliverRecent)) === 1) return;
    await runPass();
  };

  const report = (error: unknown) =>
    logger.warn(
      { err: error },
      'webhook redelivery pass failed; trying again at the next interval',
    );
  void runPass().catch(report);
  const timer = setInterval(() => {
    timedPass().catch(report);
  }, intervalMs);
  timer.unref();

  return {
    runPass,
    async close() {
      // The pass in progress asks for nothing more: the rest wait for
      // the next server's pass.
      stopping.abort();
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
