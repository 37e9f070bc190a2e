/**
 * Valohai's metadata rule: a stdout line holding a JSON object is one metrics
 * event. Steps are untrusted, so the parse is bounded and the result holds
 * only flat, finite, prototype-free values.
 */
import { parsePythonJson } from './parse-python-json.js';

export type MetricValue = number | string | boolean | null;

/** Null-prototype map of metric name → value. */
export type MetricValues = Record<string, MetricValue>;

export type IgnoredReason =
  'too-long' | 'invalid-json' | 'too-deep' | 'no-values';

export type ParsedMetricsLine =
  /** `dropped` counts values left out (non-finite, nested, unsafe keys). */
  | { values: MetricValues; dropped: number }
  | { ignored: IgnoredReason; dropped: number };

/** Lines longer than this (UTF-16 units) are logged but never parsed. */
export const MAX_METRICS_LINE_CHARS = 64 * 1024;
/** Longer string values are cut to this many characters. */
export const MAX_METRIC_STRING_CHARS = 1000;

/**
 * Returns null for an ordinary log line (it does not start with `{`), the
 * event values for a metrics line, or why a `{` line was not used.
 */
export function parseMetricsLine(line: string): ParsedMetricsLine | null {
  if (!looksLikeMetricsLine(line)) return null;
  if (line.length > MAX_METRICS_LINE_CHARS) {
    return { ignored: 'too-long', dropped: 0 };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    // Python's json.dumps writes NaN/Infinity, and Valohai reads only the
    // first object on a line: both need the slower tolerant parser.
    const result = parsePythonJson(line);
    if (!result.ok) return { ignored: result.reason, dropped: 0 };
    parsed = result.value;
  }
  if (!isPlainObject(parsed)) return { ignored: 'invalid-json', dropped: 0 };
  const wrapped = parsed['vh_metadata'];
  const source = isPlainObject(wrapped) ? wrapped : parsed;
  return flattenValues(source);
}

/** Cheap pre-check: the line starts with `{` after leading whitespace. */
export function looksLikeMetricsLine(line: string): boolean {
  const first = line.charCodeAt(0);
  if (first === 0x7b) return true;
  // Cheap reject for the common case: most log lines start with a letter.
  if (first !== 0x20 && first !== 0x09 && first !== 0x0d && first !== 0xfeff) {
    return false;
  }
  return line.trimStart().charCodeAt(0) === 0x7b;
}

function flattenValues(source: Record<string, unknown>): ParsedMetricsLine {
  const values: MetricValues = Object.create(null) as MetricValues;
  let dropped = 0;
  let kept = 0;
  // for-in over parsed JSON sees only own keys: its prototype is either
  // Object.prototype (no enumerable keys) or null. It also avoids a keys
  // array per line on this hot path.
  for (const key in source) {
    const value = source[key];
    if (typeof value === 'number' && isSafeKey(key)) {
      if (Number.isFinite(value)) {
        values[key] = value;
        kept++;
      } else {
        dropped++;
      }
    } else if (!isSafeKey(key)) {
      dropped++;
    } else if (isPlainObject(value)) {
      // One level of nesting is flattened (`val.acc`); deeper is dropped.
      for (const inner in value) {
        const innerValue = toMetricValue(value[inner]);
        if (!isSafeKey(inner) || innerValue === undefined) {
          dropped++;
        } else {
          values[`${key}.${inner}`] = innerValue;
          kept++;
        }
      }
    } else {
      const metric = toMetricValue(value);
      if (metric === undefined) {
        dropped++;
      } else {
        values[key] = metric;
        kept++;
      }
    }
  }
  if (kept === 0) return { ignored: 'no-values', dropped };
  return { values, dropped };
}

function isSafeKey(key: string): boolean {
  return key !== '__proto__' && key !== 'constructor' && key !== 'prototype';
}

/** A list value longer than this as JSON text is dropped, not cut. */
export const MAX_METRIC_LIST_CHARS = 10_000;

function toMetricValue(value: unknown): MetricValue | undefined {
  if (Array.isArray(value)) return listText(value);
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'string':
      return value.length > MAX_METRIC_STRING_CHARS ? capString(value) : value;
    case 'boolean':
      return value;
    case 'object':
      return value === null ? null : undefined;
    default:
      return undefined;
  }
}

/**
 * A list of plain values (`{"ids": ["a", "b"]}`) is kept as its JSON text:
 * a metadata edge into a task node sweeps its items (Valohai's dynamic
 * fan-out). Lists holding objects or lists are dropped.
 */
function listText(list: readonly unknown[]): string | undefined {
  for (const item of list) {
    if (item !== null && typeof item === 'object') return undefined;
    if (typeof item === 'number' && !Number.isFinite(item)) return undefined;
  }
  const text = JSON.stringify(list);
  return text.length > MAX_METRIC_LIST_CHARS ? undefined : text;
}

function capString(value: string): string {
  const last = value.charCodeAt(MAX_METRIC_STRING_CHARS - 1);
  // Do not leave half of a surrogate pair at the end.
  const cut =
    last >= 0xd800 && last <= 0xdbff
      ? MAX_METRIC_STRING_CHARS - 1
      : MAX_METRIC_STRING_CHARS;
  return value.slice(0, cut);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
