import type { Finding } from './finding.js';

/** A 1-based position in the source text. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A key or index on the way from the document root to a value. */
export type PathSegment = string | number;

/**
 * Positions of every value (and of every mapping key) of a read document,
 * so that checks working on plain values can still point at a line.
 */
export interface PositionIndex {
  /** Where the value at `path` starts; the nearest known ancestor otherwise. */
  valueAt(path: readonly PathSegment[]): SourcePosition;
  /** Where the mapping key at `path` starts; falls back to `valueAt`. */
  keyAt(path: readonly PathSegment[]): SourcePosition;
}

/**
 * The result of reading a YAML text the way PyYAML's `safe_load` does.
 *
 * `value` holds plain data: `null`, booleans, ints as JS numbers, floats as
 * `PyFloat`, timestamps as `PyTimestamp`, strings, arrays, and mappings as
 * objects created with a null prototype (never any `__proto__` magic).
 * `value` is `undefined` when the text could not be read at all; `findings`
 * then says why. Findings may also carry warnings for a readable text
 * (a duplicated key: the last value wins, as in PyYAML).
 */
export interface YamlDocument {
  value: unknown;
  positions: PositionIndex;
  findings: Finding[];
}

/** Joins a path the way `Finding.path` spells it. */
export function formatPath(path: readonly PathSegment[]): string {
  return path.join('.');
}
