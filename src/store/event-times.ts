/**
 * When each run's event happened (GitHub's time), kept 30 days beside the
 * runs, so superseding can order pushes by when they happened
 * (`control/supersede-runs.ts`). `record` is called before a run is
 * created; `times` reads several (null where none was recorded).
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';

export interface EventTimes {
  record(runId: string, eventTime: number): Promise<void>;
  times(runIds: readonly string[]): Promise<Array<number | null>>;
}

const TTL_SECONDS = 30 * 24 * 3600;

export function createEventTimes(redis: Redis, keys: RedisKeys): EventTimes {
  return {
    async record(runId, eventTime) {
      await redis.set(
        keys.intakeEventTime(runId),
        String(eventTime),
        'EX',
        TTL_SECONDS,
      );
    },
    async times(runIds) {
      if (runIds.length === 0) return [];
      const values = await redis.mget(
        runIds.map((id) => keys.intakeEventTime(id)),
      );
      return values.map((value) => (value === null ? null : Number(value)));
    },
  };
}
