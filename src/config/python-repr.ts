import { PyFloat, PyTimestamp } from './py-scalars.js';

/** Roughly Python's `repr()` of a YAML scalar, for messages about defaults. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (value instanceof PyFloat) {
    return Number.isInteger(value.value)
      ? `${value.value}.0`
      : String(value.value);
  }
  if (value instanceof PyTimestamp) return value.text;
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `'${shown.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  return '{…}';
}

/** Python's `str()` of a scalar (what `int(str(v))` would see). */
export function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof PyTimestamp) return value.text;
  return pythonRepr(value);
}
