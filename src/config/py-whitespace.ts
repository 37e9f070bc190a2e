/**
 * Python's notion of whitespace (`str.isspace`), used by `str.split()`,
 * `str.strip()`, `int()` and `float()`. It differs from JavaScript's `\s`:
 * Python counts U+001C–U+001F and U+0085, JavaScript counts U+FEFF.
 */
const WHITESPACE_CLASS =
  '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const ONE = new RegExp(`^[${WHITESPACE_CLASS}]$`);
const RUN = new RegExp(`[${WHITESPACE_CLASS}]+`);

export function isPyWhitespace(char: string): boolean {
  return ONE.test(char);
}

/** Python's `text.strip()`; linear even on long whitespace runs. */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPyWhitespace(text.charAt(start))) start += 1;
  while (end > start && isPyWhitespace(text.charAt(end - 1))) end -= 1;
  return text.slice(start, end);
}

/** Python's `text.split()` (no argument): no empty items. */
export function pySplit(text: string): string[] {
  return text.split(RUN).filter((part) => part !== '');
}
