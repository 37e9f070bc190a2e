import { PyFloat, PyTimestamp } from './py-scalars.js';
import { formatFloat, pythonStr } from './python-str.js';

/** Roughly Python's `repr()` of a YAML scalar, for messages about defaults. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'bigint') {
    return pythonStr(value);
  }
  if (value instanceof PyFloat) return formatFloat(value.value);
  if (value instanceof PyTimestamp) return value.text;
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `'${shown.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  return '{…}';
}
