/**
 * Python's `format(value, spec)` for the values a parameter can have once
 * converted (str, int, bool, float; see convert-parameter-value.ts), as
 * CPython's `str.__format__`, `int.__format__` and `float.__format__` do it:
 * fill, alignment, sign, `z`, `#`, `0`, width, `,`/`_` grouping, precision
 * and the types `s`, `b c d o x X n`, `e E f F g G %`.
 */
import { formatPyFloatMagnitude } from './format-py-float.js';
import type { FloatFormat } from './format-py-float.js';
import { parseFormatSpec } from './parse-format-spec.js';
import type { FormatSpec } from './parse-format-spec.js';
import { PyFloat } from './py-scalars.js';
import { pythonStr } from './python-str.js';

/** The Python type of a value, which decides what a spec may say. */
export type PyKind = 'str' | 'int' | 'bool' | 'float';

export type FormatResult =
  { ok: true; text: string } | { ok: false; message: string };

const INT_TYPES = new Set(['b', 'c', 'd', 'o', 'x', 'X', 'n']);
const FLOAT_TYPES = new Set(['e', 'E', 'f', 'F', 'g', 'G', 'n', '%']);
const BASES: Readonly<Record<string, number>> = { b: 2, o: 8, x: 16, X: 16 };
/** Types that take `,` (and `_`); `_` also goes with b, o, x, X. */
const GROUPING_TYPES = new Set(['d', 'e', 'f', 'g', 'E', 'G', '%', 'F']);

export function pyKindOf(value: unknown): PyKind {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' || typeof value === 'bigint') return 'int';
  if (value instanceof PyFloat) return 'float';
  return 'str';
}

/**
 * Python's ValueError for `format(x, spec)` with any `x` of `kind`, or
 * undefined when the spec suits the kind. What depends on the value itself
 * (a `c` out of range, an int too large for a float) is left to
 * `formatPythonValue`.
 */
export function checkFormatSpec(
  kind: PyKind,
  text: string,
): string | undefined {
  if (text === '') return undefined;
  const parsed = parseFormatSpec(text, kind);
  if (!parsed.ok) return parsed.message;
  const { spec } = parsed;
  const type = spec.type;
  // As CPython's parser: a str's type defaults to `s`, an int's to `d`.
  const typeOrDefault =
    type ?? (kind === 'str' ? 's' : kind === 'float' ? undefined : 'd');
  if (
    spec.grouping !== undefined &&
    typeOrDefault !== undefined &&
    !GROUPING_TYPES.has(typeOrDefault) &&
    !(spec.grouping === '_' && Object.hasOwn(BASES, typeOrDefault))
  ) {
    return `Cannot specify '${spec.grouping}' with '${typeOrDefault}'.`;
  }
  if (kind === 'str') return checkStringSpec(spec);
  // An int formats as a float for these (its float() first).
  if (usesFloat(kind, type)) return undefined;
  if (type !== undefined && (kind === 'float' || !INT_TYPES.has(type))) {
    return unknownCode(type, kind);
  }
  if (kind === 'float') return undefined;
  if (spec.noNegativeZero) {
    return 'Negative zero coercion (z) not allowed in integer format specifier';
  }
  if (spec.precision !== undefined) {
    return 'Precision not allowed in integer format specifier';
  }
  if (type === 'c') {
    if (spec.sign !== undefined) {
      return "Sign not allowed with integer format specifier 'c'";
    }
    if (spec.alternate) {
      return "Alternate form (#) not allowed with integer format specifier 'c'";
    }
  }
  return undefined;
}

/** True when `format` goes through float formatting (`n` stays int for ints). */
function usesFloat(kind: PyKind, type: string | undefined): boolean {
  if (type === undefined) return kind === 'float';
  if (!FLOAT_TYPES.has(type)) return false;
  return kind === 'float' || type !== 'n';
}

function checkStringSpec(spec: FormatSpec): string | undefined {
  if (spec.type !== undefined && spec.type !== 's') {
    return unknownCode(spec.type, 'str');
  }
  if (spec.sign !== undefined) {
    return spec.sign === ' '
      ? 'Space not allowed in string format specifier'
      : 'Sign not allowed in string format specifier';
  }
  if (spec.noNegativeZero) {
    return 'Negative zero coercion (z) not allowed in string format specifier';
  }
  if (spec.alternate) {
    return 'Alternate form (#) not allowed in string format specifier';
  }
  if (spec.align === '=') {
    return "'=' alignment not allowed in string format specifier";
  }
  return undefined;
}

function unknownCode(type: string, kind: PyKind): string {
  return `Unknown format code '${type}' for object of type '${kind}'`;
}

/** `format(value, spec)`; a failure carries Python's message. */
export function formatPythonValue(value: unknown, text: string): FormatResult {
  const kind = pyKindOf(value);
  // An empty spec is str(value), for every type (bool prints True).
  if (text === '') return { ok: true, text: pythonStr(value) };
  const problem = checkFormatSpec(kind, text);
  if (problem !== undefined) return { ok: false, message: problem };
  const parsed = parseFormatSpec(text, kind);
  if (!parsed.ok) return { ok: false, message: parsed.message };
  const { spec } = parsed;
  if (kind === 'str') {
    let body = pythonStr(value);
    if (spec.precision !== undefined) {
      body = Array.from(body).slice(0, spec.precision).join('');
    }
    return { ok: true, text: pad(spec, '<', '', body) };
  }
  if (usesFloat(kind, spec.type)) {
    const number = toFloat(value);
    if (number === undefined) {
      return { ok: false, message: 'int too large to convert to float' };
    }
    return { ok: true, text: formatFloatValue(number, spec) };
  }
  return formatIntValue(toBigInt(value), spec);
}

function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  return BigInt(value as number);
}

/** Python's float(value); undefined on an OverflowError. */
function toFloat(value: unknown): number | undefined {
  if (value instanceof PyFloat) return value.value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  // Number() rounds a bigint to nearest, ties to even, as Python does.
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function formatIntValue(value: bigint, spec: FormatSpec): FormatResult {
  const type = spec.type ?? 'd';
  if (type === 'c') {
    if (value < -(2n ** 63n) || value >= 2n ** 63n) {
      return {
        ok: false,
        message: 'Python int too large to convert to C long',
      };
    }
    if (value < 0n || value > 0x10ffffn) {
      return { ok: false, message: '%c arg not in range(0x110000)' };
    }
    if (value >= 0xd800n && value <= 0xdfffn) {
      // Python builds the lone surrogate; no command can carry it.
      return {
        ok: false,
        message: `%c of ${value} is a lone surrogate, which kiln cannot pass in a command`,
      };
    }
    return {
      ok: true,
      text: pad(spec, '>', '', String.fromCodePoint(Number(value))),
    };
  }
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const base = BASES[type] ?? 10;
  let digits = magnitude.toString(base);
  if (type === 'X') digits = digits.toUpperCase();
  const prefix = spec.alternate && base !== 10 ? `0${type}` : '';
  return {
    ok: true,
    text: layoutNumber(spec, {
      negative,
      prefix,
      digits,
      rest: '',
      groupSize: base === 10 ? 3 : 4,
    }),
  };
}

function formatFloatValue(value: number, spec: FormatSpec): string {
  let type = spec.type;
  let number = value;
  let suffix = '';
  if (type === '%') {
    number *= 100;
    type = 'f';
    suffix = '%';
  }
  const lower = type?.toLowerCase();
  const format: FloatFormat = {
    type:
      lower === undefined
        ? spec.precision === undefined
          ? 'r'
          : 'g'
        : lower === 'n'
          ? 'g'
          : (lower as 'e' | 'f' | 'g'),
    precision: spec.precision,
    alternate: spec.alternate,
    addDotZero: lower === undefined,
  };
  let body = formatPyFloatMagnitude(number, format) + suffix;
  if (type === 'E' || type === 'F' || type === 'G') body = body.toUpperCase();
  let negative = number < 0 || Object.is(number, -0);
  // `z`: a value that rounded to zero loses its sign (inf keeps it).
  if (negative && spec.noNegativeZero && /^[0.]*(?:e[+-]0+)?%?$/i.test(body)) {
    negative = false;
  }
  // Grouping applies to the leading digits (none for inf and nan).
  const lead = /^[0-9]*/.exec(body)?.[0] ?? '';
  return layoutNumber(spec, {
    negative,
    prefix: '',
    digits: lead,
    rest: body.slice(lead.length),
    groupSize: 3,
  });
}

interface NumberParts {
  negative: boolean;
  /** `0x` and friends, after the sign. */
  prefix: string;
  /** The digits grouping applies to. */
  digits: string;
  /** The rest: fraction, exponent, `%`, or `inf`/`nan`. */
  rest: string;
  groupSize: number;
}

/** CPython's `calc_number_widths` + `fill_number`. */
function layoutNumber(spec: FormatSpec, parts: NumberParts): string {
  const sign = parts.negative
    ? '-'
    : spec.sign === '+' || spec.sign === ' '
      ? spec.sign
      : '';
  const fill = spec.fill ?? (spec.zeroPad ? '0' : ' ');
  const align = spec.align ?? (spec.zeroPad ? '=' : '>');
  let digits = parts.digits;
  if (spec.grouping !== undefined && digits !== '') {
    // A `0` fill with `=` pads the digits themselves, grouped too.
    const minWidth =
      fill === '0' && align === '='
        ? (spec.width ?? 0) -
          sign.length -
          parts.prefix.length -
          codePoints(parts.rest)
        : 0;
    digits = groupDigits(digits, spec.grouping, parts.groupSize, minWidth);
  }
  const body = `${digits}${parts.rest}`;
  if (align === '=') {
    // The padding goes after the sign and the `0x`.
    const lead = sign + parts.prefix;
    const padding = (spec.width ?? 0) - codePoints(lead) - codePoints(body);
    return `${lead}${fill.repeat(Math.max(0, padding))}${body}`;
  }
  return pad({ ...spec, fill, align }, '>', sign, parts.prefix + body);
}

/** Pads `sign + body` to the width; `=` is handled by the caller. */
function pad(
  spec: FormatSpec,
  defaultAlign: '<' | '>',
  sign: string,
  body: string,
): string {
  const text = sign + body;
  const padding = (spec.width ?? 0) - codePoints(text);
  if (padding <= 0) return text;
  const fill = spec.fill ?? (spec.zeroPad ? '0' : ' ');
  const align = spec.align ?? defaultAlign;
  if (align === '<') return text + fill.repeat(padding);
  if (align === '^') {
    const left = Math.floor(padding / 2);
    return fill.repeat(left) + text + fill.repeat(padding - left);
  }
  return fill.repeat(padding) + text;
}

/**
 * CPython's `_PyUnicode_InsertThousandsGrouping`: separators every `size`
 * digits from the right, padding with zeros up to `minWidth` characters
 * (separators included; never starting with a separator).
 */
function groupDigits(
  digits: string,
  separator: string,
  size: number,
  minWidth: number,
): string {
  const groups: string[] = [];
  let remaining = digits.length;
  let min = minWidth;
  for (;;) {
    const length = Math.min(size, Math.max(remaining, min, 1));
    const zeros = Math.max(0, length - remaining);
    const taken = Math.max(0, Math.min(remaining, length));
    groups.unshift(
      '0'.repeat(zeros) + digits.slice(remaining - taken, remaining),
    );
    remaining -= taken;
    min -= length;
    if (remaining <= 0 && min <= 0) break;
    min -= separator.length;
  }
  return groups.join(separator);
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}
