/**
 * Records are Redis hashes with one field per top-level property, each
 * holding that property's JSON. A patch then becomes HSET/HDEL of the
 * fields it names, so Lua never has to decode and re-encode a whole record
 * (Redis' cjson loses float precision and turns `[]` into `{}`).
 */

import { toStoredJson } from './to-stored-json.js';

export interface FieldChanges {
  /** Alternating field, JSON value. */
  set: string[];
  /** Fields whose patch value is `undefined`. */
  remove: string[];
}

export function toFieldChanges(
  patch: Readonly<Record<string, unknown>>,
  fixed: ReadonlySet<string> = new Set(),
): FieldChanges {
  const set: string[] = [];
  const remove: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (fixed.has(field)) continue;
    if (value === undefined) remove.push(field);
    else set.push(field, toStoredJson(value));
  }
  return { set, remove };
}

/** Inverse of `toFieldChanges`; a field that isn't JSON is dropped. */
export function fromFields(
  hash: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [field, text] of Object.entries(hash)) {
    if (field === '__proto__') continue;
    try {
      record[field] = JSON.parse(text);
    } catch {
      // Lenient on read: one damaged field must not hide the record.
    }
  }
  return record;
}

/** HGETALL as a flat array (from Lua) → object. */
export function pairsToObject(
  pairs: readonly unknown[],
): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let index = 0; index + 1 < pairs.length; index += 2) {
    hash[String(pairs[index])] = String(pairs[index + 1]);
  }
  return hash;
}
