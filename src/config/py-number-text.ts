/**
 * Python's `int(text)` and `float(text)` for strings: surrounding whitespace
 * ignored, `_` allowed between digits, any Unicode decimal digit accepted.
 * `vh exec run` converts parameter values with them, so `"1e-4"` is a float
 * and `"5.0"` is not an int.
 */
import { pyStrip } from './py-whitespace.js';

/** CPython refuses to convert longer digit strings (int_max_str_digits). */
const MAX_INT_DIGITS = 4300;

const DIGITS = String.raw`\p{Nd}+(?:_\p{Nd}+)*`;
const INT_TEXT = new RegExp(`^([+-]?)(${DIGITS})$`, 'u');
const FLOAT_TEXT = new RegExp(
  `^([+-]?)(?:(inf|infinity|nan)|((?:${DIGITS})(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE]([+-]?${DIGITS}))?)$`,
  'iu',
);
const DECIMAL_DIGIT = /\p{Nd}/u;

/** The int, as a number when exact, else as a bigint; undefined if invalid. */
export function parsePyInt(text: string): number | bigint | undefined {
  const match = INT_TEXT.exec(pyStrip(text));
  if (!match) return undefined;
  const digits = toAsciiDigits(match[2] ?? '');
  if (digits.length > MAX_INT_DIGITS) return undefined;
  const big = BigInt(`${match[1] ?? ''}${digits}`);
  const small = Number(big);
  return Number.isSafeInteger(small) ? small : big;
}

/** The float; undefined if Python's `float()` would raise. */
export function parsePyFloat(text: string): number | undefined {
  const match = FLOAT_TEXT.exec(pyStrip(text));
  if (!match) return undefined;
  const sign = match[1] === '-' ? -1 : 1;
  const special = match[2]?.toLowerCase();
  if (special !== undefined) return special === 'nan' ? NaN : sign * Infinity;
  const mantissa = toAsciiDigits(match[3] ?? '');
  const exponent = match[4] === undefined ? '' : `e${toAsciiDigits(match[4])}`;
  return sign * Number(`${mantissa}${exponent}`);
}

/** Drops `_` and maps every Unicode decimal digit to its ASCII digit. */
function toAsciiDigits(text: string): string {
  let out = '';
  for (const char of text) {
    if (char === '_') continue;
    out += char < '\x80' ? char : String(digitValue(char));
  }
  return out;
}

/**
 * Unicode lays out decimal digits in contiguous runs of ten starting at
 * zero, so a digit's value is its distance from the start of its run.
 */
function digitValue(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  let start = code;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start -= 1;
  return (code - start) % 10;
}
