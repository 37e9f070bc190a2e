/**
 * Tolerant readers used while normalising: a value of the wrong type reads
 * as absent (the schema check has already reported it), so normalisation
 * never throws on bad input.
 */
import { isMapping } from './describe-value.js';
import { asExactNumber, asNumber } from './py-scalars.js';

export function readString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function readBoolean(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

export function readNumber(value: unknown): number | undefined {
  return typeof value === 'boolean' ? undefined : asNumber(value);
}

/** As `readNumber`, keeping an int beyond 2^53 exact (a bigint). */
export function readExactNumber(value: unknown): number | bigint | undefined {
  return typeof value === 'boolean' ? undefined : asExactNumber(value);
}

/** A string is a one-item list; non-string items are dropped. */
export function readStringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return [];
  return value.filter((item): item is string => typeof item === 'string');
}

/** The mapping items of a list, with their indexes. */
export function readMappingItems(
  value: unknown,
): { index: number; item: Record<string, unknown> }[] {
  if (!Array.isArray(value)) return [];
  const items: { index: number; item: Record<string, unknown> }[] = [];
  value.forEach((item, index) => {
    if (isMapping(item)) items.push({ index, item });
  });
  return items;
}

/** A copy into a null-prototype object, so no key can act as `__proto__`. */
export function copyMapping(value: unknown): Record<string, unknown> {
  const copy = Object.create(null) as Record<string, unknown>;
  if (isMapping(value)) {
    for (const key of Object.keys(value)) copy[key] = value[key];
  }
  return copy;
}
