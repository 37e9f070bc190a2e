/**
 * `JSON.parse` for request bodies, except that an integer literal beyond
 * 2^53 (which `JSON.parse` would round: `9007199254740993` → `…992`) is read
 * as its decimal text. Parameter values convert that text exactly as they
 * would the int (`int("9007199254740993")` keeps every digit), and runs store
 * given values as JSON, which has no other exact form for such a number.
 * Throws `SyntaxError` as `JSON.parse` does.
 */
export function parseExactJson(text: string): unknown {
  // Most bodies hold no such number: one scan, then the native parser.
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  return JSON.parse(quoteLongIntegers(text));
}

const INTEGER = /-?[1-9][0-9]*/y;

/**
 * Wraps each integer literal outside strings that a JS number can't hold in
 * quotes. A number and a string are both a JSON value, so this never turns
 * invalid JSON into valid JSON.
 */
function quoteLongIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === '"') {
      index = skipString(text, index);
      continue;
    }
    if (char !== '-' && (char === undefined || char < '0' || char > '9')) {
      index += 1;
      continue;
    }
    const end = numberEnd(text, index);
    INTEGER.lastIndex = index;
    const integer = INTEGER.exec(text);
    if (
      integer?.[0].length === end - index &&
      !Number.isSafeInteger(Number(integer[0]))
    ) {
      out += `${text.slice(copied, index)}"${integer[0]}"`;
      copied = end;
    }
    index = Math.max(end, index + 1);
  }
  return out + text.slice(copied);
}

/** The index after the string literal starting at `start` (or the end). */
function skipString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === '\\') index += 2;
    else if (char === '"') return index + 1;
    else index += 1;
  }
  return index;
}

/** The index after the run of number characters starting at `start`. */
function numberEnd(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length && /[0-9.eE+-]/.test(text[index] ?? '')) {
    index += 1;
  }
  return index;
}
