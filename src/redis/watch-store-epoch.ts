/**
 * Notices when Redis lost kiln's data — restarted without persistence,
 * flushed, failed over to an empty replica — which otherwise makes runs,
 * queues, tokens and secrets vanish without a word while commit statuses
 * stay pending forever. The store carries an epoch: a random id written
 * once into an empty store. Every process remembers the epoch it started
 * with and looks at it every `checkMs`: gone or changed, the store is
 * lost. A process that starts on an empty store also looks at the epoch
 * its data dir last saw for the same Redis and prefix: a different one
 * means the data was lost while it was stopped.
 *
 * Lost is a state the process keeps until it is restarted: an error in the
 * log (at once, then every minute), `/readyz` failing (`store`) and
 * `kiln_store_lost` at 1. Attempts still running find their runs gone at
 * their next report (or the worker's next look, within seconds) and stop.
 * The epoch is never written again by a running process: every process
 * that knew the old store keeps alarming until someone looks.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys } from './redis-keys.js';

export interface StoreEpochWatch {
  /** The epoch this process works with. */
  readonly epoch: string;
  /** Why the store is considered lost, or null while it is not. */
  lost(): { reason: string; since: string } | null;
  close(): void;
}

export interface WatchStoreEpochOptions {
  redis: Redis;
  keys: RedisKeys;
  logger: Pick<Logger, 'error' | 'warn'>;
  /**
   * Where this host remembers the epoch of each store it worked with
   * (`<dataDir>/store-epochs.json`); none: only the running check.
   */
  memoryFile?: string;
  /** Names the store in the memory file: Redis address and database, no password. */
  storeName: string;
  /** @defaultValue 10000 */
  checkMs?: number;
  /** @defaultValue 60000 */
  repeatMs?: number;
}

export async function watchStoreEpoch(
  options: WatchStoreEpochOptions,
): Promise<StoreEpochWatch> {
  const { redis, keys, logger } = options;
  const created = (await redis.set(keys.epoch, randomUUID(), 'NX')) === 'OK';
  const epoch = (await redis.get(keys.epoch)) ?? '';
  let lost: { reason: string; since: string } | null = null;
  let lastAlarm = 0;
  const alarm = (reason: string) => {
    lost ??= { reason, since: new Date().toISOString() };
    lastAlarm = Date.now();
    logger.error(
      { store: options.storeName, prefix: keys.prefix, since: lost.since },
      `the Redis store lost kiln's data: ${lost.reason}. Runs, queued steps, API tokens and secrets kept there are gone and their commit statuses will not move: redeliver recent webhooks from GitHub (the App's or the repository's webhook page), create tokens and secrets again, then restart kiln's processes`,
    );
  };

  if (options.memoryFile) {
    const remembered = await readMemory(options.memoryFile);
    const before = remembered[storeKey(options)];
    if (before !== undefined && before !== epoch) {
      if (created) {
        alarm(
          `it was empty when this process started, though this host last worked with it at epoch ${before} (now ${epoch})`,
        );
      } else {
        logger.warn(
          { store: options.storeName, before, now: epoch },
          'this data dir last worked with another store under the same name; using the one found',
        );
      }
    }
    remembered[storeKey(options)] = epoch;
    await writeFile(options.memoryFile, JSON.stringify(remembered)).catch(
      (error: unknown) =>
        logger.warn({ err: error }, 'could not remember the store epoch'),
    );
  }

  const timer = setInterval(() => {
    if (lost) {
      if (Date.now() - lastAlarm >= (options.repeatMs ?? 60_000))
        alarm(lost.reason);
      return;
    }
    redis.get(keys.epoch).then(
      (now) => {
        if (now === epoch || lost) return;
        alarm(
          now === null
            ? `its epoch key ${keys.epoch} is gone (Redis restarted without persistence, was flushed, or failed over to an empty replica)`
            : `its epoch changed from ${epoch} to ${now} (another, empty store took its place)`,
        );
      },
      // Redis away: not a loss (yet); the next look tells.
      () => undefined,
    );
  }, options.checkMs ?? 10_000);
  timer.unref();

  return {
    epoch,
    lost: () => lost,
    close: () => clearInterval(timer),
  };
}

function storeKey(options: WatchStoreEpochOptions): string {
  return `${options.storeName}#${options.keys.prefix}`;
}

async function readMemory(file: string): Promise<Record<string, string>> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return Object.fromEntries(
        Object.entries(value).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        ),
      );
    }
  } catch {
    // None yet, or unreadable: start a new memory.
  }
  return {};
}

/** A Redis URL (or socket path) without its credentials, to name a store. */
export function nameStore(url: string): string {
  if (url.startsWith('/')) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname || '/0'}`;
  } catch {
    return 'redis';
  }
}
