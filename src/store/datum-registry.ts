/**
 * Datums: stored output files addressed as `datum://<id>` or by an alias
 * that always names the datum registered last under it.
 */
import type { Redis } from 'ioredis';
import type { DatumRecord } from './execution-store.js';
import type { RedisKeys } from '../redis/redis-keys.js';

export async function registerDatum(
  redis: Redis,
  keys: RedisKeys,
  datum: DatumRecord,
): Promise<void> {
  const record: DatumRecord = {
    ...datum,
    createdAt: datum.createdAt ?? new Date().toISOString(),
  };
  // One transaction: an alias never points at a datum not yet written.
  const transaction = redis
    .multi()
    .set(keys.datum(datum.id), JSON.stringify(record), 'NX');
  if (datum.alias) {
    transaction.set(keys.datumAlias(datum.repository, datum.alias), datum.id);
  }
  await transaction.exec();
}

export async function resolveDatum(
  redis: Redis,
  keys: RedisKeys,
  options: { idOrAlias: string; repository?: string },
): Promise<DatumRecord | null> {
  const direct = parseDatum(await redis.get(keys.datum(options.idOrAlias)));
  if (direct) return direct;
  const id = await redis.get(
    keys.datumAlias(options.repository, options.idOrAlias),
  );
  return id === null ? null : parseDatum(await redis.get(keys.datum(id)));
}

function parseDatum(text: string | null): DatumRecord | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<DatumRecord> | null;
    if (!value || typeof value.id !== 'string') return null;
    return {
      id: value.id,
      sha256: String(value.sha256 ?? ''),
      size: Number(value.size ?? 0),
      path: String(value.path ?? ''),
      executionId: String(value.executionId ?? ''),
      ...(typeof value.repository === 'string'
        ? { repository: value.repository }
        : {}),
      ...(typeof value.alias === 'string' ? { alias: value.alias } : {}),
      ...(typeof value.createdAt === 'string'
        ? { createdAt: value.createdAt }
        : {}),
    };
  } catch {
    return null;
  }
}
