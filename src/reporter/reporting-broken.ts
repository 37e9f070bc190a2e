/**
 * Whether GitHub refuses kiln's credentials: set when a report met a 401
 * even with a freshly minted token (or with KILN_GITHUB_TOKEN, which
 * can't be refreshed), cleared by the first report GitHub takes again.
 * Kept in Redis so every kiln process shows the same state
 * (`kiln_github_reporting_broken`) and one of them logs the alert.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';

export interface ReportingBroken {
  /** When GitHub first refused (ISO time). */
  since: string;
  /** GitHub's message. */
  reason: string;
}

/** Marks reporting broken; true when it was not marked yet (alert once). */
export async function markReportingBroken(
  redis: Redis,
  keys: RedisKeys,
  reason: string,
): Promise<boolean> {
  const value: ReportingBroken = { since: new Date().toISOString(), reason };
  const set = await redis.set(keys.githubBroken, JSON.stringify(value), 'NX');
  return set === 'OK';
}

/** Clears the mark; true when it was set (reporting resumed). */
export async function clearReportingBroken(
  redis: Redis,
  keys: RedisKeys,
): Promise<boolean> {
  return (await redis.del(keys.githubBroken)) > 0;
}

export async function readReportingBroken(
  redis: Redis,
  keys: RedisKeys,
): Promise<ReportingBroken | null> {
  const text = await redis.get(keys.githubBroken);
  if (text === null) return null;
  try {
    return JSON.parse(text) as ReportingBroken;
  } catch {
    return { since: '', reason: text };
  }
}
