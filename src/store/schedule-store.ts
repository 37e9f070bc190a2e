/**
 * Schedules and what their ticks did, in Redis under the kiln prefix: one
 * hash of records (a kiln has tens of schedules, not thousands), one hash
 * of ticks per schedule (the latest 200 kept), and per branch the time of
 * the push its schedules were last taken from.
 *
 * Contract: any process may call anything concurrently. `decideTick` is
 * the one place a tick's decision is made: the first caller's decision is
 * stored and every later caller (a retry, a second worker after a crash)
 * gets that one back. `claimSync` refuses a push older than the last one
 * synced, so deliveries handled out of order never let an old file win.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { ScheduleRecord, ScheduleTick } from '../model/schedule.js';

export interface ScheduleStore {
  /** Sorted by repository, branch and trigger name. */
  list(filter?: {
    repository?: string;
    branch?: string;
  }): Promise<ScheduleRecord[]>;
  get(id: string): Promise<ScheduleRecord | null>;
  put(record: ScheduleRecord): Promise<void>;
  /** Removes the record and its ticks. Idempotent. */
  remove(id: string): Promise<void>;
  /**
   * Records that the schedules of `branch` are being taken from a push
   * made at `pushedAt` (ms); false (and nothing changed) when a later
   * push was already taken.
   */
  claimSync(options: {
    repository: string;
    branch: string;
    pushedAt: number;
  }): Promise<boolean>;
  /** Stores `tick` unless its tick time has a record; resolves with the stored one. */
  decideTick(id: string, tick: ScheduleTick): Promise<ScheduleTick>;
  /** Replaces the record of `tick.at`. */
  recordTick(id: string, tick: ScheduleTick): Promise<void>;
  /** Newest first. */
  listTicks(id: string, limit: number): Promise<ScheduleTick[]>;
}

const keptTicks = 200;

// Sets ARGV[2] under KEYS[1] unless ARGV[1] (the push time) is older than
// what is stored. Returns 1 when set, 0 when a later push is stored.
const claimSyncScript = `
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored and tonumber(stored) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

export function createScheduleStore(
  redis: Redis,
  keys: RedisKeys,
): ScheduleStore {
  async function trimTicks(id: string): Promise<void> {
    const key = keys.scheduleTicks(id);
    if ((await redis.hlen(key)) <= keptTicks) return;
    const fields = (await redis.hkeys(key)).sort(
      (a, b) => Number(a) - Number(b),
    );
    const old = fields.slice(0, fields.length - keptTicks);
    if (old.length > 0) await redis.hdel(key, ...old);
  }

  return {
    async list(filter = {}) {
      const values = await redis.hvals(keys.schedules);
      return values
        .map((value) => JSON.parse(value) as ScheduleRecord)
        .filter(
          (record) =>
            (filter.repository === undefined ||
              record.repository === filter.repository) &&
            (filter.branch === undefined || record.branch === filter.branch),
        )
        .sort((a, b) =>
          `${a.repository}\n${a.branch}\n${a.trigger}`.localeCompare(
            `${b.repository}\n${b.branch}\n${b.trigger}`,
          ),
        );
    },
    async get(id) {
      const value = await redis.hget(keys.schedules, id);
      return value === null ? null : (JSON.parse(value) as ScheduleRecord);
    },
    async put(record) {
      await redis.hset(keys.schedules, record.id, JSON.stringify(record));
    },
    async remove(id) {
      await redis
        .multi()
        .hdel(keys.schedules, id)
        .del(keys.scheduleTicks(id))
        .exec();
    },
    async claimSync({ repository, branch, pushedAt }) {
      const claimed = await redis.eval(
        claimSyncScript,
        1,
        keys.scheduleSyncs,
        `${repository}\n${branch}`,
        String(pushedAt),
      );
      return claimed === 1;
    },
    async decideTick(id, tick) {
      const key = keys.scheduleTicks(id);
      const field = String(Date.parse(tick.at));
      const [[, set], [, stored]] = (await redis
        .multi()
        .hsetnx(key, field, JSON.stringify(tick))
        .hget(key, field)
        .exec()) as [[unknown, number], [unknown, string]];
      if (set === 1) await trimTicks(id);
      return JSON.parse(stored) as ScheduleTick;
    },
    async recordTick(id, tick) {
      await redis.hset(
        keys.scheduleTicks(id),
        String(Date.parse(tick.at)),
        JSON.stringify(tick),
      );
    },
    async listTicks(id, limit) {
      const all = await redis.hgetall(keys.scheduleTicks(id));
      return Object.entries(all)
        .sort(([a], [b]) => Number(b) - Number(a))
        .slice(0, limit)
        .map(([, value]) => JSON.parse(value) as ScheduleTick);
    },
  };
}
