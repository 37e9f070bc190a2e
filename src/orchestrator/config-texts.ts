/**
 * The configuration text a run was created from, stored once per content
 * hash: every worker re-reads exactly what the run was planned with, even if
 * the branch moved on, and re-parsing is deterministic.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';

const cache = new Map<string, LoadedConfig>();
const CACHE_LIMIT = 64;

export async function storeConfigText(
  redis: Redis,
  prefix: string,
  text: string,
): Promise<string> {
  const key = createHash('sha256').update(text).digest('hex');
  await redis.set(`${prefix}:config:${key}`, text, 'NX');
  return key;
}

export async function loadStoredConfig(
  redis: Redis,
  prefix: string,
  key: string,
  file: string,
): Promise<LoadedConfig | null> {
  const cached = cache.get(`${file}\0${key}`);
  if (cached) return cached;
  const text = await redis.get(`${prefix}:config:${key}`);
  if (text === null) return null;
  const loaded = loadConfig(text, { file });
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(`${file}\0${key}`, loaded);
  return loaded;
}
