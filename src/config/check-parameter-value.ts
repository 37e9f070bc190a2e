/**
 * Launch-time checks of a converted parameter value against the
 * parameter's `choices`, `min` and `max`, as Valohai's
 * `Parameter._validate_value` does them.
 */
import type { Parameter } from './config-model.js';
import { asExactNumber } from './py-scalars.js';
import { pythonStr } from './python-str.js';

/**
 * Problems with `value` (already converted; each item of a list is checked);
 * empty when it is allowed. Comparisons that Python cannot make (a string
 * against a number) are skipped, as Valohai skips them.
 */
export function checkParameterValue(
  parameter: Parameter,
  value: unknown,
): string[] {
  const items = Array.isArray(value) ? value : [value];
  const problems: string[] = [];
  for (const item of items) {
    problems.push(...checkAtom(parameter, item));
  }
  return problems;
}

function checkAtom(parameter: Parameter, value: unknown): string[] {
  const problems: string[] = [];
  const prefix = `parameter "${parameter.name}": ${pythonStr(value)}`;
  const number = numericValue(value);
  if (number !== undefined && parameter.min !== undefined) {
    if (number < parameter.min) {
      problems.push(
        `${prefix} is less than the minimum allowed (${parameter.min}); use a value ≥ ${parameter.min}`,
      );
    }
  }
  if (number !== undefined && parameter.max !== undefined) {
    if (number > parameter.max) {
      problems.push(
        `${prefix} is greater than the maximum allowed (${parameter.max}); use a value ≤ ${parameter.max}`,
      );
    }
  }
  const choices = parameter.type === 'flag' ? undefined : parameter.choices;
  if (choices && !choices.some((choice) => pythonEquals(choice, value))) {
    problems.push(
      `${prefix} is not among the choices allowed (${choices.map(pythonStr).join(', ')})`,
    );
  }
  return problems;
}

/** Python compares bools, ints and floats as numbers. */
function numericValue(value: unknown): number | bigint | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return asExactNumber(value);
}

function pythonEquals(left: unknown, right: unknown): boolean {
  const a = numericValue(left);
  const b = numericValue(right);
  if (a !== undefined && b !== undefined) return a == b;
  if (typeof left === 'string' && typeof right === 'string') {
    return left === right;
  }
  return false;
}

/**
 * Bytes one string value may have. A value reaches the step as one
 * command-line argument (`--name=value`) and Linux refuses an argument of
 * 128 KiB or more (MAX_ARG_STRLEN) with an error naming nothing.
 */
export const MAX_PARAMETER_VALUE_BYTES = 100 * 1024;

/**
 * Why a string value (or an item of a list) can't be handed to a process
 * at all, whatever the parameter allows: a NUL byte ends a C string, and
 * an argument past the kernel's limit makes the container fail to start.
 * Null when it can.
 */
export function checkParameterText(
  parameter: Parameter,
  value: unknown,
): string | null {
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) {
    if (typeof item !== 'string') continue;
    if (item.includes('\0')) {
      return `parameter "${parameter.name}": the value contains a NUL byte, which can't be passed to a process; remove it`;
    }
    const bytes = Buffer.byteLength(item, 'utf8');
    if (bytes > MAX_PARAMETER_VALUE_BYTES) {
      return `parameter "${parameter.name}": the value is ${bytes} bytes, more than a step's command line takes (${MAX_PARAMETER_VALUE_BYTES}); pass large data as an input instead`;
    }
  }
  return null;
}
