/**
 * Heartbeats of running attempts, so a takeover can tell a lost worker
 * from a lost lock. BullMQ's job lock lapses whenever Redis is away longer
 * than the lock (or a worker's event loop stalls), and the job is handed
 * out again — often to the very worker that still runs it, whose healthy
 * container a takeover would then kill. The worker holding an attempt
 * beats for it every few seconds; a takeover goes ahead only once the beat
 * has been missing for a grace period measured on Redis's clock (a
 * restarted Redis gives a live worker that long to beat again).
 *
 * Contract: `beat` and `end` are idempotent; `judge` is safe to call from
 * any number of workers at once and never takes anything over itself.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import { runScript, type StoreScript } from './store-script.js';

export type AttemptVerdict =
  /** The attempt beats: its worker runs it. Leave it be. */
  | 'alive'
  /** No beat, but not for long enough yet: ask again later. */
  | 'wait'
  /** No beat for the whole grace: the attempt is lost, take it over. */
  | 'lost';

export interface AttemptBeats {
  /** Marks these attempts alive for `ttlMs`. */
  beat(executionIds: readonly string[], ttlMs: number): Promise<void>;
  /** The attempt ended (or was handed back): no beat any more. */
  end(executionId: string): Promise<void>;
  judge(executionId: string, graceMs: number): Promise<AttemptVerdict>;
}

/**
 * KEYS: 1 the beat, 2 when it was first found missing. ARGV: 1 grace (ms).
 * Returns alive | wait | lost. The time is Redis's own (no clock skew
 * between workers), and a beat that came back clears the suspicion.
 */
const JUDGE: StoreScript = {
  name: 'kilnJudgeAttempt',
  keys: 2,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[2])
  return 'alive'
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local grace = tonumber(ARGV[1])
local since = redis.call('GET', KEYS[2])
if not since then
  redis.call('SET', KEYS[2], now, 'PX', grace * 10)
  return 'wait'
end
if now - tonumber(since) >= grace then return 'lost' end
return 'wait'
`,
};

export function createRedisAttemptBeats(
  redis: Redis,
  keys: RedisKeys,
): AttemptBeats {
  return {
    async beat(executionIds, ttlMs) {
      if (executionIds.length === 0) return;
      const pipeline = redis.pipeline();
      for (const id of executionIds) {
        pipeline.set(keys.attemptBeat(id), '1', 'PX', Math.ceil(ttlMs));
      }
      await pipeline.exec();
    },
    async end(executionId) {
      await redis.del(
        keys.attemptBeat(executionId),
        keys.attemptSuspect(executionId),
      );
    },
    async judge(executionId, graceMs) {
      const verdict = await runScript(redis, JUDGE, {
        keys: [keys.attemptBeat(executionId), keys.attemptSuspect(executionId)],
        args: [Math.ceil(graceMs)],
      });
      return verdict as AttemptVerdict;
    },
  };
}
