/**
 * What kiln did with each webhook delivery, for people (the UI's delivery
 * list) and for accounting (every delivery GitHub sent is either here or
 * was never received). One Redis hash per delivery plus a sorted set by
 * arrival time, capped: the oldest records are dropped with their hashes.
 *
 * Contract: `recordDelivery` upserts (fields given replace those stored;
 * the arrival time is the first one) and may be called by the HTTP route
 * and then by the intake worker, in that order, any number of times.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';

export type DeliveryStatus =
  | 'received'
  | 'queued'
  | 'runs-created'
  | 'ignored'
  | 'rejected'
  | 'recorded'
  | 'failed';

export interface DeliveryRecord {
  /** The `X-GitHub-Delivery` GUID, or `rejected-<uuid>` for unsigned requests. */
  id: string;
  /** The GUID the request claimed (unsigned requests can claim anything). */
  deliveryId?: string;
  event?: string;
  action?: string;
  status: DeliveryStatus;
  reason?: string;
  /** HTTP status kiln answered, when rejected at the door. */
  httpStatus?: number;
  repository?: string;
  ref?: string;
  sha?: string;
  runIds: string[];
  cancelledRunIds: string[];
  /** Copies received after the first (redeliveries). */
  duplicates: number;
  receivedAt: string;
  updatedAt: string;
}

export type DeliveryPatch = Partial<
  Omit<DeliveryRecord, 'id' | 'receivedAt' | 'updatedAt' | 'duplicates'>
>;

export interface ListDeliveriesOptions {
  /** At most 500. */
  limit: number;
  /** @defaultValue 0 */
  offset?: number;
}

export interface RecordDeliveryOptions {
  /**
   * Write only fields not stored yet. The HTTP route records `queued` this
   * way: the worker may already have recorded the outcome.
   */
  keepExisting?: boolean;
}

export interface DeliveryLog {
  recordDelivery(
    id: string,
    patch: DeliveryPatch,
    options?: RecordDeliveryOptions,
  ): Promise<void>;
  /** Counts a redelivery of an already handled delivery. */
  countDuplicate(id: string): Promise<void>;
  /** Newest first. */
  listDeliveries(options: ListDeliveriesOptions): Promise<DeliveryRecord[]>;
  getDelivery(id: string): Promise<DeliveryRecord | null>;
}

export interface DeliveryLogOptions {
  keys: RedisKeys;
  /** Records kept. @defaultValue 10000 */
  cap?: number;
  now?: () => Date;
}

const recordTtlSeconds = 30 * 24 * 3600;

// KEYS[1] sorted set, KEYS[2] hash; ARGV[1] id, ARGV[2] score (ms),
// ARGV[3] cap, ARGV[4] ttl, ARGV[5] hash key prefix, ARGV[6] now (ISO),
// ARGV[7] 'set' or 'keep' (only fields not stored yet), ARGV[8..] pairs.
const RECORD = `
redis.call('HSETNX', KEYS[2], 'receivedAt', ARGV[6])
redis.call('HSETNX', KEYS[2], 'id', ARGV[1])
redis.call('HSET', KEYS[2], 'updatedAt', ARGV[6])
for i = 8, #ARGV, 2 do
  if ARGV[7] == 'keep' then
    redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])
  else
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[1], 0, extra - 1)
  for _, id in ipairs(old) do
    redis.call('DEL', ARGV[5] .. id)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
end
return 1
`;

export function createDeliveryLog(
  redis: Redis,
  options: DeliveryLogOptions,
): DeliveryLog {
  const listKey = options.keys.deliveries;
  const hashPrefix = options.keys.deliveryLog('');
  const cap = options.cap ?? 10_000;
  const now = () => options.now?.() ?? new Date();

  async function getDelivery(id: string): Promise<DeliveryRecord | null> {
    const hash = await redis.hgetall(hashPrefix + id);
    return parseRecord(hash);
  }

  return {
    async recordDelivery(id, patch, recordOptions = {}) {
      const at = now();
      const fields: string[] = [];
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        fields.push(
          key,
          typeof value === 'string' ? value : JSON.stringify(value),
        );
      }
      await redis.eval(
        RECORD,
        2,
        listKey,
        hashPrefix + id,
        id,
        String(at.getTime()),
        String(cap),
        String(recordTtlSeconds),
        hashPrefix,
        at.toISOString(),
        recordOptions.keepExisting ? 'keep' : 'set',
        ...fields,
      );
    },
    async countDuplicate(id) {
      const key = hashPrefix + id;
      // Only counts on an existing record: never creates a partial one.
      await redis.eval(
        `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HINCRBY', KEYS[1], 'duplicates', 1) end return 0`,
        1,
        key,
      );
    },
    async listDeliveries({ limit, offset = 0 }) {
      const count = Math.max(0, Math.min(500, Math.floor(limit)));
      const start = Math.max(0, Math.floor(offset));
      if (count === 0) return [];
      const ids = await redis.zrevrange(listKey, start, start + count - 1);
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(hashPrefix + id);
      const results = (await pipeline.exec()) ?? [];
      return results
        .map(([, hash]) => parseRecord(hash as Record<string, string>))
        .filter((record) => record !== null);
    },
    getDelivery,
  };
}

const statuses: readonly DeliveryStatus[] = [
  'received',
  'queued',
  'runs-created',
  'ignored',
  'rejected',
  'recorded',
  'failed',
];

function parseRecord(hash: Record<string, string>): DeliveryRecord | null {
  if (!hash.id) return null;
  const status = statuses.find((item) => item === hash.status) ?? 'received';
  return {
    id: hash.id,
    deliveryId: hash.deliveryId,
    event: hash.event,
    action: hash.action,
    status,
    reason: hash.reason,
    httpStatus: hash.httpStatus ? Number(hash.httpStatus) : undefined,
    repository: hash.repository,
    ref: hash.ref,
    sha: hash.sha,
    runIds: parseList(hash.runIds),
    cancelledRunIds: parseList(hash.cancelledRunIds),
    duplicates: Number(hash.duplicates ?? 0) || 0,
    receivedAt: hash.receivedAt ?? '',
    updatedAt: hash.updatedAt ?? '',
  };
}

function parseList(json: string | undefined): string[] {
  if (!json) return [];
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value)
      ? value.filter((item): item is string => typeof item === 'string')
      : [];
  } catch {
    return [];
  }
}
