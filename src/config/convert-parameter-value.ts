/**
 * Converts a parameter value to its parameter's type the way `vh exec run`
 * does (click's INT, FLOAT, BOOL and STRING types, i.e. Python's `int()`,
 * `float()`, click's boolean words and `str()`), for YAML defaults and for
 * values typed on the command line alike.
 */
import type { Parameter } from './config-model.js';
import { parsePyFloat, parsePyInt } from './py-number-text.js';
import { PyFloat } from './py-scalars.js';
import { pyStrip } from './py-whitespace.js';
import { pythonStr } from './python-str.js';

export { checkParameterValue } from './check-parameter-value.js';

export type ConversionResult =
  { ok: true; value: unknown } | { ok: false; message: string };

const TRUE_WORDS = new Set(['1', 'true', 't', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'f', 'no', 'n', 'off']);

/**
 * The converted value: an int (number, or bigint beyond 2^53), a `PyFloat`,
 * a boolean or a string; for a `multiple` parameter, a list of those (a
 * scalar counts as a one-item list). Pure; never throws.
 */
export function convertParameterValue(
  parameter: Parameter,
  value: unknown,
): ConversionResult {
  if (parameter.multiple !== 'none' && parameter.type !== 'flag') {
    const items = Array.isArray(value) ? value : [value];
    const converted: unknown[] = [];
    for (const item of items) {
      if (Array.isArray(item)) {
        return failure(parameter, item, 'is a nested list; give plain values');
      }
      const result = convertAtom(parameter, item);
      if (!result.ok) return result;
      converted.push(result.value);
    }
    return { ok: true, value: converted };
  }
  return convertAtom(parameter, value);
}

function convertAtom(parameter: Parameter, value: unknown): ConversionResult {
  if (value === null || value === undefined) {
    return failure(
      parameter,
      value,
      'is not a value; give one or leave it out',
    );
  }
  switch (parameter.type) {
    case 'integer':
      return convertInteger(parameter, value);
    case 'float':
      return convertFloat(parameter, value);
    case 'flag':
      return convertFlag(parameter, value);
    default:
      return { ok: true, value: pythonStr(value) };
  }
}

function convertInteger(
  parameter: Parameter,
  value: unknown,
): ConversionResult {
  const fix = 'is not an integer; write a whole number such as 5';
  if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
  if (typeof value === 'bigint') return { ok: true, value };
  if (typeof value === 'number' || value instanceof PyFloat) {
    const number = typeof value === 'number' ? value : value.value;
    if (!Number.isFinite(number)) return failure(parameter, value, fix);
    return { ok: true, value: toInt(Math.trunc(number)) };
  }
  if (typeof value === 'string') {
    const parsed = parsePyInt(value);
    if (parsed === undefined) return failure(parameter, value, fix);
    return { ok: true, value: parsed };
  }
  return failure(parameter, value, fix);
}

function toInt(number: number): number | bigint {
  if (Object.is(number, -0)) return 0;
  return Number.isSafeInteger(number) ? number : BigInt(number);
}

function convertFloat(parameter: Parameter, value: unknown): ConversionResult {
  const fix = 'is not a number; write a number such as 0.001 or 1e-4';
  if (typeof value === 'boolean') {
    return { ok: true, value: new PyFloat(value ? 1 : 0) };
  }
  if (typeof value === 'number') return { ok: true, value: new PyFloat(value) };
  if (value instanceof PyFloat) return { ok: true, value };
  if (typeof value === 'bigint') {
    const number = Number(value);
    if (!Number.isFinite(number)) return failure(parameter, value, fix);
    return { ok: true, value: new PyFloat(number) };
  }
  if (typeof value === 'string') {
    const parsed = parsePyFloat(value);
    if (parsed === undefined) return failure(parameter, value, fix);
    return { ok: true, value: new PyFloat(parsed) };
  }
  return failure(parameter, value, fix);
}

function convertFlag(parameter: Parameter, value: unknown): ConversionResult {
  if (typeof value === 'boolean') return { ok: true, value };
  // click compares with `value in {False, True}`, so 0, 1, 0.0 and 1.0 count.
  const number =
    typeof value === 'number'
      ? value
      : value instanceof PyFloat
        ? value.value
        : typeof value === 'bigint'
          ? Number(value)
          : undefined;
  if (number === 0 || number === 1) return { ok: true, value: number === 1 };
  if (typeof value === 'string') {
    const word = pyStrip(value).toLowerCase();
    if (TRUE_WORDS.has(word)) return { ok: true, value: true };
    if (FALSE_WORDS.has(word)) return { ok: true, value: false };
  }
  return failure(
    parameter,
    value,
    'is not a boolean; write true or false (also yes/no, on/off, 1/0)',
  );
}

function failure(
  parameter: Parameter,
  value: unknown,
  problem: string,
): ConversionResult {
  const shown =
    typeof value === 'string' ? JSON.stringify(value) : pythonStr(value);
  return {
    ok: false,
    message: `parameter "${parameter.name}" (${parameter.type}): ${shown} ${problem}`,
  };
}
