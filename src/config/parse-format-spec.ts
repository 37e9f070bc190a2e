/**
 * Python's format specification mini-language
 * (`[[fill]align][sign][z][#][0][width][grouping][.precision][type]`), read
 * as CPython's `parse_internal_render_format_spec` reads it. Only the parts
 * that do not depend on the value's type are checked here; see
 * format-python-value.ts for the rest.
 */

export interface FormatSpec {
  /** One code point; undefined when not written. */
  fill?: string;
  align?: '<' | '>' | '=' | '^';
  sign?: '+' | '-' | ' ';
  /** `z`: a negative zero after rounding prints without its sign. */
  noNegativeZero: boolean;
  /** `#` */
  alternate: boolean;
  /** A `0` before the width (Python: fill `0`, and `=` for numbers). */
  zeroPad: boolean;
  width?: number;
  grouping?: ',' | '_';
  precision?: number;
  /** One character; undefined when not written. */
  type?: string;
}

export type SpecParse =
  { ok: true; spec: FormatSpec } | { ok: false; message: string };

/**
 * Widths and precisions beyond this are refused: Python would build a
 * string that size, kiln will not put it in a command.
 */
export const MAX_FORMAT_WIDTH = 10_000;

const ALIGN = new Set(['<', '>', '=', '^']);
const SIGN = new Set(['+', '-', ' ']);

/**
 * Reads `text`; `typeName` is the Python type named in messages (`int`,
 * `str`, …), as Python names it.
 */
export function parseFormatSpec(text: string, typeName: string): SpecParse {
  const chars = Array.from(text);
  const spec: FormatSpec = {
    noNegativeZero: false,
    alternate: false,
    zeroPad: false,
  };
  let at = 0;
  const peek = (offset = 0): string | undefined => chars[at + offset];
  if (chars.length >= 2 && ALIGN.has(peek(1) ?? '')) {
    spec.fill = peek();
    spec.align = peek(1) as FormatSpec['align'];
    at += 2;
  } else if (ALIGN.has(peek() ?? '')) {
    spec.align = peek() as FormatSpec['align'];
    at += 1;
  }
  if (SIGN.has(peek() ?? '')) {
    spec.sign = peek() as FormatSpec['sign'];
    at += 1;
  }
  if (peek() === 'z') {
    spec.noNegativeZero = true;
    at += 1;
  }
  if (peek() === '#') {
    spec.alternate = true;
    at += 1;
  }
  if (spec.fill === undefined && peek() === '0') {
    spec.zeroPad = true;
    at += 1;
  }
  const width = readDigits();
  if (typeof width === 'string') return { ok: false, message: width };
  if (width !== undefined) spec.width = width;
  if (peek() === ',' || peek() === '_') {
    spec.grouping = peek() as FormatSpec['grouping'];
    at += 1;
    if (peek() === ',' || peek() === '_') {
      return { ok: false, message: "Cannot specify both ',' and '_'." };
    }
  }
  if (peek() === '.') {
    at += 1;
    const precision = readDigits();
    if (typeof precision === 'string') return { ok: false, message: precision };
    if (precision === undefined) {
      return { ok: false, message: 'Format specifier missing precision' };
    }
    spec.precision = precision;
  }
  if (chars.length - at > 1) {
    return {
      ok: false,
      message: `Invalid format specifier '${text}' for object of type '${typeName}'`,
    };
  }
  if (at < chars.length) spec.type = peek();
  return { ok: true, spec };

  /** A run of ASCII digits, a message when too large, or undefined. */
  function readDigits(): number | string | undefined {
    let digits = '';
    while (/^[0-9]$/.test(peek() ?? '')) {
      digits += peek();
      at += 1;
    }
    if (digits === '') return undefined;
    const value = Number(digits);
    if (value > MAX_FORMAT_WIDTH) {
      return `${digits} is too large: kiln allows widths and precisions up to ${MAX_FORMAT_WIDTH}`;
    }
    return value;
  }
}
