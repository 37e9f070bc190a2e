/**
 * One live worker per `KILN_WORKER_ID`. The id labels a worker's
 * containers and a worker reaps, at start, every container of its id that
 * no started step holds: two live workers sharing an id (two on one host,
 * where the id defaults to the host name) would remove each other's
 * running steps (reliability plan F28). So a worker holds its id as a lock
 * in Redis for as long as it runs (with-redis-lock.ts: renewed, lapsing
 * `ttlMs` after its holder dies).
 *
 * Called once by the worker role before it reaps; the function it returns
 * is called once at shutdown, after the steps are done. A worker that
 * restarts after a crash finds its own old claim and waits for it to lapse
 * (at most `ttlMs`); a claim still held past `waitMs` is another live
 * worker's, and starting fails saying so.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { KilnError } from '../errors.js';
import { withRedisLock } from '../redis/with-redis-lock.js';

export class WorkerIdInUseError extends KilnError {
  readonly code = 'WORKER_ID_IN_USE';
}

export interface ClaimWorkerIdOptions {
  key: string;
  workerId: string;
  /** The claim lapses this long after its holder stops. */
  ttlMs: number;
  /** How long to wait for a claim to lapse. @defaultValue ttlMs + 5000 */
  waitMs?: number;
  logger: Logger;
}

/** Resolves once this process holds the id; the result releases it. */
export async function claimWorkerId(
  redis: Redis,
  options: ClaimWorkerIdOptions,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + (options.waitMs ?? options.ttlMs + 5_000);
  let told = false;
  for (;;) {
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let held: () => void = () => undefined;
    const holding = new Promise<'held'>((resolve) => {
      held = () => resolve('held');
    });
    const claim = withRedisLock(
      redis,
      { key: options.key, ttlMs: options.ttlMs },
      async () => {
        held();
        await stopped;
      },
    );
    const first = await Promise.race([
      holding,
      claim.then((result) => (result.locked ? 'held' : 'taken')),
    ]);
    if (first === 'held') {
      return async () => {
        stop();
        await claim;
      };
    }
    if (Date.now() > deadline) {
      throw new WorkerIdInUseError(
        `KILN_WORKER_ID=${options.workerId} is held by another live worker (its claim in Redis is still renewed): give each worker its own KILN_WORKER_ID — it defaults to the host name, so two workers on one host need one each`,
      );
    }
    if (!told) {
      told = true;
      options.logger.warn(
        { workerId: options.workerId },
        'another worker holds this worker id: waiting for its claim to lapse (a worker that crashed) or for it to stop',
      );
    }
    await sleep(1_000);
  }
}
