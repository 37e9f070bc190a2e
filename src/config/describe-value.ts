import { PyFloat, PyTimestamp } from './py-scalars.js';
import type { SourcePosition } from './yaml-document.js';

const maxShown = 40;

/** True for a YAML mapping as the reader returns it (not a list or scalar). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof PyFloat) &&
    !(value instanceof PyTimestamp)
  );
}

function shorten(text: string): string {
  return text.length > maxShown ? `${text.slice(0, maxShown)}…` : text;
}

/**
 * The scalar as the user typed it, so that `image: yes` can be reported as
 * `(yes)` rather than `(true)`: YAML 1.1 booleans surprise people.
 */
export function readRawScalar(
  text: string | undefined,
  position: SourcePosition,
): string | undefined {
  if (text === undefined || position.line < 1) return undefined;
  const line = text.split('\n', position.line)[position.line - 1];
  if (line === undefined) return undefined;
  let rest = line.slice(Math.max(0, position.column - 1)).replace(/\r$/, '');
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const end = rest.indexOf(quote, 1);
    return shorten(end > 0 ? rest.slice(0, end + 1) : rest);
  }
  rest = rest.replace(/\s+#.*$/, '').split(/[,\]}]/)[0] ?? '';
  const raw = rest.trim();
  return raw === '' ? undefined : shorten(raw);
}

/** `a boolean (yes)`, `a string ("x")`, `a list`, … for messages. */
export function describeValue(value: unknown, raw?: string): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (typeof value === 'boolean') return `a boolean (${raw ?? value})`;
  if (typeof value === 'number' || typeof value === 'bigint') {
    return `an integer (${raw ?? value})`;
  }
  if (value instanceof PyFloat) return `a float (${raw ?? value.value})`;
  if (value instanceof PyTimestamp) return `a date (${raw ?? value.text})`;
  if (typeof value === 'string')
    return `a string (${JSON.stringify(shorten(value))})`;
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

/** A user string quoted for a message, cut short and with escapes visible. */
export function quoteName(name: string): string {
  return JSON.stringify(shorten(name));
}
