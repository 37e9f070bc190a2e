import type { Engine } from '../engine/create-engine.js';

/**
 * Which store a local command used, for people: the Redis host (never its
 * password) or the data dir's private redis-server, and the key prefix.
 */
export function describeStore(
  engine: Pick<Engine, 'settings' | 'keys'>,
): string {
  const url = engine.settings.redisUrl;
  let place = `the private redis-server of ${engine.settings.dataDir}`;
  if (url) {
    try {
      const parsed = new URL(url);
      place = `${parsed.protocol}//${parsed.host}`;
    } catch {
      place = 'REDIS_URL';
    }
  }
  return `the local store (${place}, prefix ${engine.keys.prefix})`;
}
