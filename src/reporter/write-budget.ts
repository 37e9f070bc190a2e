/**
 * How fast kiln writes to GitHub, shared by every kiln process on the same
 * Redis: a log of recent write times (a sorted set, Redis' clock) checked
 * and appended in one script. GitHub allows 80 content-creating requests a
 * minute and 500 an hour; kiln stays under both, and keeps part of each
 * for final states, so a commit's final status never waits behind pending
 * statuses, in-progress check runs or comment edits. Routine writes are
 * also spaced (GitHub asks for ≥ 1 s between writes); final ones are not,
 * so the statuses of a commit's pipelines go out as soon as they end.
 *
 * Contract: `take` may be called concurrently from many processes; each
 * granted write is recorded before the call resolves. A write that is
 * granted and then fails still counts (GitHub counts it too).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { KilnError } from '../errors.js';
import type { RedisKeys } from '../redis/redis-keys.js';

/** `final`: a final status or a completed check run; `routine`: the rest. */
export type WriteClass = 'final' | 'routine';

export interface WriteBudgetOptions {
  keys: RedisKeys;
  /** Writes in any 60 s. @defaultValue 70 (GitHub's limit is 80) */
  perMinute?: number;
  /** Writes in any hour. @defaultValue 480 (GitHub's limit is 500) */
  perHour?: number;
  /** Of `perMinute`, kept for final writes. @defaultValue 15 */
  finalPerMinute?: number;
  /** Of `perHour`, kept for final writes. @defaultValue 120 */
  finalPerHour?: number;
  /** Routine writes wait this long after any write. @defaultValue 1000 */
  routineSpacingMs?: number;
}

export interface WriteBudget {
  /** 0 when the write may go now (and is counted), else ms to wait. */
  take(kind: WriteClass): Promise<number>;
}

/**
 * Thrown by a writer that may not write yet: the report job steps aside
 * until `until` (epoch ms) and then re-reads the run, so what it posts is
 * the state at that time (a pending status that waited may never be
 * needed).
 */
export class WriteDeferredError extends KilnError {
  readonly code = 'GITHUB_WRITE_DEFERRED';
  readonly until: number;
  constructor(until: number, why = 'the GitHub write budget is spent') {
    super(`${why}: the report waits until ${new Date(until).toISOString()}`);
    this.until = until;
  }
}

/** Asks for one write of a class; throws WriteDeferredError when refused. */
export type WriteGate = (kind: WriteClass) => Promise<void>;

/**
 * KEYS[1] the write log (sorted set: member → time in ms)
 * ARGV[1] minute limit, ARGV[2] hour limit for this class,
 * ARGV[3] spacing in ms after the newest write, ARGV[4] a unique member
 * Returns 0 when granted (the write is logged), else the ms to wait.
 *
 * Sent with EVAL, not a command defined on the client: the server's client
 * pipelines commands automatically, and ioredis breaks (crashing the
 * process) when a command is defined while such a pipeline is open
 * (ioredis#1931). Redis caches the compiled script by its hash anyway.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
local perMinute = tonumber(ARGV[1])
local perHour = tonumber(ARGV[2])
local spacing = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - 3600000)
local wait = 0
local hour = redis.call('ZCARD', key)
if hour >= perHour then
  local oldest = redis.call('ZRANGE', key, hour - perHour, hour - perHour, 'WITHSCORES')
  wait = math.max(wait, tonumber(oldest[2]) + 3600000 - now)
end
local minute = redis.call('ZCOUNT', key, now - 60000, '+inf')
if minute >= perMinute then
  local oldest = redis.call('ZRANGEBYSCORE', key, now - 60000, '+inf', 'WITHSCORES', 'LIMIT', minute - perMinute, 1)
  wait = math.max(wait, tonumber(oldest[2]) + 60000 - now)
end
if spacing > 0 then
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] then
    wait = math.max(wait, tonumber(newest[2]) + spacing - now)
  end
end
if wait > 0 then return math.ceil(wait) end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, 3600000)
return 0`;

export function createWriteBudget(
  redis: Redis,
  options: WriteBudgetOptions,
): WriteBudget {
  const perMinute = options.perMinute ?? 70;
  const perHour = options.perHour ?? 480;
  const finalPerMinute = Math.min(options.finalPerMinute ?? 15, perMinute);
  const finalPerHour = Math.min(options.finalPerHour ?? 120, perHour);
  const spacing = options.routineSpacingMs ?? 1000;
  return {
    async take(kind) {
      const final = kind === 'final';
      const wait = await redis.eval(
        TAKE,
        1,
        options.keys.githubWrites,
        final ? perMinute : perMinute - finalPerMinute,
        final ? perHour : perHour - finalPerHour,
        final ? 0 : spacing,
        `${Date.now()}-${randomBytes(6).toString('hex')}`,
      );
      return Number(wait);
    },
  };
}

/** A gate over a budget: resolves when granted, else throws the deferral. */
export function gateOf(budget: WriteBudget): WriteGate {
  return async (kind) => {
    const wait = await budget.take(kind);
    if (wait > 0) throw new WriteDeferredError(Date.now() + wait);
  };
}
