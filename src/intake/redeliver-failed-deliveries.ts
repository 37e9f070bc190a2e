/**
 * One pass of the redeliverer, as GitHub's guide "Handling failed webhook
 * deliveries" describes it: list the deliveries GitHub attempted since the
 * last pass, find the events (GUIDs) whose every attempt failed (no 2xx
 * answer: kiln was down, Redis refused it, GitHub gave up waiting) and ask
 * GitHub to deliver each of them again — once.
 *
 * Per source (the App's webhook, or each repository webhook):
 * 1. List back to the checkpoint (`redeliverCheckpoints`, GitHub's clock,
 *    so skew between hosts does not matter); with none yet, back
 *    `lookbackMs`.
 * 2. Skip a failed GUID kiln's ledger has as queued (kiln got a copy that
 *    GitHub counted as failed, e.g. it answered after GitHub stopped
 *    waiting); a GUID claimed but never confirmed as queued is asked for,
 *    so the crash it hides is repaired (delivery-ledger.ts).
 * 3. Ask for the others, oldest first, a second apart, at most
 *    `maxRedeliveries` per pass (a rate limit ends the asking);
 *    `redeliverAsked(guid)` (SET NX, kept as long as GitHub keeps the
 *    delivery) makes it once per GUID, whoever asks and however often the
 *    pass runs. A redelivery that fails as well is not asked for again.
 * 4. Move the checkpoint to the newest attempt seen less an overlap (an
 *    attempt GitHub records late is still listed), but never past a GUID
 *    left for the next pass (over the limit, or GitHub erred).
 *
 * Not concurrent with itself: the caller holds `redeliverLock`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type {
  HookDelivery,
  HookDeliverySource,
} from '../forge/github/create-hook-delivery-sources.js';
import type { RedisKeys } from '../redis/redis-keys.js';

export interface RedeliverFailedDeliveriesDeps {
  redis: Redis;
  keys: RedisKeys;
  sources: HookDeliverySource[];
  logger: Logger;
  /** Told of each redelivery GitHub accepted (the metric). */
  onAsked?: (source: string) => void;
}

export interface RedeliverFailedDeliveriesOptions {
  /** How far back a source without a checkpoint is listed. */
  lookbackMs: number;
  /** Redeliveries asked for per source and pass. */
  maxRedeliveries: number;
  /**
   * Spacing of the asks: GitHub wants a second between mutating requests.
   * @defaultValue 1000
   */
  askIntervalMs?: number;
  /** Once aborted (the server stops), nothing more is asked for. */
  signal?: AbortSignal;
  /** Attempts read per source and pass. @defaultValue 5000 */
  maxListed?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** What one pass did for one source (also the summary log line). */
export interface SourcePassSummary {
  source: string;
  /** Listed back to here (ISO). */
  since: string;
  /** Attempts read. */
  listed: number;
  /** Events with no successful attempt in the listing. */
  failed: number;
  /** Of those, kiln had them already: not asked for. */
  recorded: number;
  /** Of those, asked for by an earlier pass: not asked again. */
  alreadyAsked: number;
  /** Redeliveries GitHub accepted in this pass. */
  asked: number;
  /** GitHub refused the redelivery (4xx): not asked again. */
  refused: number;
  /** Left for the next pass (over the limit, or GitHub erred). */
  deferred: number;
  /** False when `maxListed` cut the listing before `since`. */
  complete: boolean;
  /** Set when the listing itself failed (nothing else was done). */
  error?: string;
}

/** GitHub keeps deliveries 3 days; the mark outlives them. */
export const ASKED_TTL_SECONDS = 4 * 24 * 3600;
/** Deliveries GitHub keeps for redelivery. */
const RETENTION_MS = 3 * 24 * 3600 * 1000;
/** An attempt may be recorded a little after its `delivered_at`. */
const OVERLAP_MS = 5 * 60 * 1000;

export async function redeliverFailedDeliveries(
  deps: RedeliverFailedDeliveriesDeps,
  options: RedeliverFailedDeliveriesOptions,
): Promise<SourcePassSummary[]> {
  const summaries: SourcePassSummary[] = [];
  for (const source of deps.sources) {
    const summary = await passOne(deps, options, source);
    if (summary.error) deps.logger.warn(summary, 'webhook redelivery pass');
    else deps.logger.info(summary, 'webhook redelivery pass');
    summaries.push(summary);
  }
  return summaries;
}

async function passOne(
  deps: RedeliverFailedDeliveriesDeps,
  options: RedeliverFailedDeliveriesOptions,
  source: HookDeliverySource,
): Promise<SourcePassSummary> {
  const { redis, keys } = deps;
  const now = options.now?.() ?? Date.now();
  const stored = Number(
    await redis.hget(keys.redeliverCheckpoints, source.name),
  );
  const since =
    Number.isFinite(stored) && stored > 0
      ? Math.max(stored, now - RETENTION_MS)
      : now - options.lookbackMs;
  const summary: SourcePassSummary = {
    source: source.name,
    since: new Date(since).toISOString(),
    listed: 0,
    failed: 0,
    recorded: 0,
    alreadyAsked: 0,
    asked: 0,
    refused: 0,
    deferred: 0,
    complete: true,
  };
  let listing;
  try {
    listing = await source.listSince(since, {
      maxDeliveries: options.maxListed ?? 5000,
    });
  } catch (error) {
    summary.error = describeError(error);
    return summary;
  }
  summary.listed = listing.deliveries.length;
  summary.complete = listing.complete;
  const failed = failedEvents(listing.deliveries);
  summary.failed = failed.length;

  let holdAt = Number.POSITIVE_INFINITY;
  let limited = false;
  let lastAskAt = 0;
  for (const event of failed) {
    const ledger = await redis.get(keys.delivery(event.guid));
    if (ledger === 'queued') {
      summary.recorded += 1;
      continue;
    }
    const mark = keys.redeliverAsked(event.guid);
    if ((await redis.exists(mark)) === 1) {
      summary.alreadyAsked += 1;
      continue;
    }
    if (!limited && summary.asked < options.maxRedeliveries) {
      const wait = lastAskAt + (options.askIntervalMs ?? 1000) - Date.now();
      if (wait > 0) await sleep(wait);
    }
    if (
      limited ||
      options.signal?.aborted === true ||
      summary.asked >= options.maxRedeliveries
    ) {
      summary.deferred += 1;
      holdAt = Math.min(holdAt, event.firstAt);
      continue;
    }
    // NX: of two kilns racing past the lock's lapse, one asks.
    const first = await redis.set(
      mark,
      String(now),
      'EX',
      ASKED_TTL_SECONDS,
      'NX',
    );
    if (first !== 'OK') {
      summary.alreadyAsked += 1;
      continue;
    }
    lastAskAt = Date.now();
    try {
      await source.redeliver(event.latest.id);
      summary.asked += 1;
      deps.onAsked?.(source.name);
      deps.logger.info(
        {
          source: source.name,
          delivery: event.guid,
          event: event.latest.event,
          action: event.latest.action,
          attempts: event.attempts,
          lastStatus: event.latest.status,
        },
        'asked GitHub to redeliver a failed delivery',
      );
    } catch (error) {
      const status = (error as { status?: number }).status;
      limited = isRateLimit(error);
      if (
        !limited &&
        status !== undefined &&
        status >= 400 &&
        status < 500 &&
        status !== 429
      ) {
        // GitHub won't (too old, gone): asking again changes nothing.
        summary.refused += 1;
        deps.logger.warn(
          {
            source: source.name,
            delivery: event.guid,
            err: describeError(error),
          },
          'GitHub refused to redeliver a failed delivery',
        );
        continue;
      }
      await redis.del(mark);
      summary.deferred += 1;
      holdAt = Math.min(holdAt, event.firstAt);
      deps.logger.warn(
        {
          source: source.name,
          delivery: event.guid,
          err: describeError(error),
        },
        'could not ask GitHub to redeliver; the next pass tries again',
      );
    }
  }

  const newest = listing.deliveries.reduce(
    (max, delivery) => Math.max(max, delivery.deliveredAt),
    Number.NEGATIVE_INFINITY,
  );
  const next = Math.max(since, Math.min(newest - OVERLAP_MS, holdAt));
  if (Number.isFinite(next) && next > since)
    await redis.hset(keys.redeliverCheckpoints, source.name, String(next));
  else if (!(stored > 0))
    await redis.hset(keys.redeliverCheckpoints, source.name, String(since));
  if (!listing.complete) {
    deps.logger.warn(
      { source: source.name, listed: summary.listed, since: summary.since },
      'more failed-delivery candidates than one pass reads: attempts older than the last one read were not checked; redeliver those from GitHub by hand',
    );
  }
  return summary;
}

interface FailedEvent {
  guid: string;
  attempts: number;
  /** The oldest attempt's time (ms) and id. */
  firstAt: number;
  firstId: number;
  /** The newest attempt: the one redelivered. */
  latest: HookDelivery;
}

/** GUIDs none of whose listed attempts got a 2xx, oldest event first. */
function failedEvents(deliveries: HookDelivery[]): FailedEvent[] {
  const byGuid = new Map<string, HookDelivery[]>();
  for (const delivery of deliveries) {
    const list = byGuid.get(delivery.guid) ?? [];
    list.push(delivery);
    byGuid.set(delivery.guid, list);
  }
  const failed: FailedEvent[] = [];
  for (const [guid, attempts] of byGuid) {
    if (
      attempts.some((item) => item.statusCode >= 200 && item.statusCode < 300)
    )
      continue;
    // GitHub's times are whole seconds; its ids grow with time.
    const sorted = [...attempts].sort(
      (a, b) => a.deliveredAt - b.deliveredAt || a.id - b.id,
    );
    failed.push({
      guid,
      attempts: sorted.length,
      firstAt: sorted[0]?.deliveredAt ?? 0,
      firstId: sorted[0]?.id ?? 0,
      latest: sorted.at(-1) as HookDelivery,
    });
  }
  return failed.sort((a, b) => a.firstAt - b.firstAt || a.firstId - b.firstId);
}

/** 429, or GitHub's 403 that says "rate limit" (primary or secondary). */
function isRateLimit(error: unknown): boolean {
  const status = (error as { status?: number }).status;
  const message = error instanceof Error ? error.message : '';
  return status === 429 || (status === 403 && /rate limit/i.test(message));
}

function describeError(error: unknown): string {
  const status = (error as { status?: number }).status;
  const message = error instanceof Error ? error.message : String(error);
  return `${status === undefined ? '' : `${status} `}${message}`.slice(0, 300);
}
