/**
 * Parameter checks from valohai-yaml's `Parameter.lint` (warnings) and its
 * constructor (a `multiple` flag cannot be built: an error), and the
 * templates Valohai's builder would fail on (lint-pass-as.ts).
 */
import { addError, addWarning } from './finding-sink.js';
import type { FindingSink } from './finding-sink.js';
import { lintPassAs } from './lint-pass-as.js';
import { asExactNumber, asNumber } from './py-scalars.js';
import { pythonRepr } from './python-repr.js';
import { pythonStr } from './python-str.js';
import type { PathSegment } from './yaml-document.js';

// Python's int(str(v), 10) and float(str(v)) accept surrounding spaces
// and underscores between digits.
const pythonInt = /^\s*[-+]?\d(?:_?\d)*\s*$/;
const pythonFloat =
  /^\s*[-+]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][-+]?\d(?:_?\d)*)?|\d(?:_?\d)*\.|inf(?:inity)?|nan)\s*$/i;

function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  const number = asNumber(value);
  return number === undefined || number !== 0;
}

/** Python's numeric value of a scalar: bools count, huge ints stay exact. */
function numericValue(value: unknown): number | bigint | undefined {
  return typeof value === 'boolean' ? Number(value) : asExactNumber(value);
}

/** Python equality for scalars (`1 == True`, `1 == 1.0`). */
function pythonEquals(a: unknown, b: unknown): boolean {
  const left = numericValue(a);
  const right = numericValue(b);
  // `==`: a bigint and a number compare by value, as in Python.
  if (left !== undefined && right !== undefined) return left == right;
  return a === b;
}

function defaultProblems(
  raw: Record<string, unknown>,
  value: unknown,
): string[] {
  const type = typeof raw.type === 'string' ? raw.type : 'string';
  const problems: string[] = [];
  const shown = pythonRepr(value);
  if (type === 'string' && typeof value !== 'string') {
    return [`default ${shown} is not a string; quote it or set "type"`];
  }
  if (type === 'integer' && !pythonInt.test(pythonStr(value))) {
    problems.push(`default ${shown} is not an integer`);
  }
  if (type === 'float' && !pythonFloat.test(pythonStr(value))) {
    problems.push(`default ${shown} is not a floating-point number`);
  }
  const number = numericValue(value);
  const min = asExactNumber(raw.min);
  const max = asExactNumber(raw.max);
  if (number !== undefined && min !== undefined && number < min) {
    problems.push(
      `default ${shown} is less than the minimum allowed (${pythonRepr(raw.min)})`,
    );
  }
  if (number !== undefined && max !== undefined && number > max) {
    problems.push(
      `default ${shown} is greater than the maximum allowed (${pythonRepr(raw.max)})`,
    );
  }
  const choices = type === 'flag' ? [true, false] : raw.choices;
  if (Array.isArray(choices) && choices.length > 0) {
    if (!choices.some((choice) => pythonEquals(choice, value))) {
      problems.push(
        `default ${shown} is not among the choices allowed (${pythonRepr(choices)})`,
      );
    }
  }
  return problems;
}

function isMultiple(value: unknown): boolean {
  return isTruthy(value) && String(value).toLowerCase() !== 'none';
}

/** Checks one parameter mapping of a step (or a node override). */
export function lintParameter(
  sink: FindingSink,
  options: { raw: Record<string, unknown>; path: PathSegment[]; owner: string },
): void {
  const { raw, path, owner } = options;
  const name = typeof raw.name === 'string' ? raw.name : '';
  const where = `parameter "${name}" in ${owner}`;
  const hasPassAs = isTruthy(raw['pass-as']);
  const hasTrueOrFalse =
    isTruthy(raw['pass-true-as']) || isTruthy(raw['pass-false-as']);
  if (raw.type === 'flag') {
    if (isMultiple(raw.multiple)) {
      addError(
        sink,
        [...path, 'multiple'],
        `flag ${where} cannot be "multiple"; remove "multiple" or change the type`,
      );
    }
    if (isTruthy(raw.optional)) {
      addWarning(
        sink,
        [...path, 'optional'],
        `"optional" has no effect on flag ${where}`,
      );
    }
    if (hasPassAs && hasTrueOrFalse) {
      addWarning(
        sink,
        [...path, 'pass-as'],
        `"pass-as" has no effect on ${where} because "pass-true-as"/"pass-false-as" are set`,
      );
    }
  } else {
    for (const key of ['pass-true-as', 'pass-false-as']) {
      if (isTruthy(raw[key])) {
        addWarning(
          sink,
          [...path, key],
          `"${key}" has no effect on non-flag ${where}`,
        );
      }
    }
  }
  lintPassAs(sink, { raw, path, where });
  if (!isTruthy(raw.default)) return;
  // valohai-yaml lists every item of a list default, multiple or not.
  const values = Array.isArray(raw.default) ? raw.default : [raw.default];
  for (const value of values as unknown[]) {
    for (const problem of defaultProblems(raw, value)) {
      addWarning(sink, [...path, 'default'], `${where}: ${problem}`);
    }
  }
}
