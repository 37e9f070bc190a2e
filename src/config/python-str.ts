/**
 * Python's `str()` for the values kiln reads from YAML or converts for a
 * parameter. Valohai renders parameter values with `str()` (through
 * `str.format`), so `1.0`, `True` and `1e-05` must come out exactly as
 * Python prints them, not as JavaScript's `String()` does.
 */
import { PyFloat, PyTimestamp } from './py-scalars.js';

export function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  return exactPythonRepr(value);
}

/**
 * Python's `repr()`: what `str()` of a list prints for its items, and what
 * `{v!r}` renders (python-repr.ts shortens it for messages instead).
 */
export function exactPythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return formatInt(value);
  if (value instanceof PyFloat) return formatFloat(value.value);
  if (value instanceof PyTimestamp) return value.text;
  if (typeof value === 'string') return reprString(value);
  if (Array.isArray(value)) return `[${value.map(exactPythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const items = Object.entries(value).map(
      ([key, item]) => `${reprString(key)}: ${exactPythonRepr(item)}`,
    );
    return `{${items.join(', ')}}`;
  }
  return String(value);
}

/** Plain JS numbers are YAML ints; printed in full, never in exponent form. */
function formatInt(value: number): string {
  if (!Number.isFinite(value)) return formatFloat(value);
  // A non-integral plain number cannot come from YAML; print it as a float
  // rather than lose the fraction.
  if (!Number.isInteger(value)) return formatFloat(value);
  return BigInt(value).toString();
}

/**
 * `repr(float)`: the shortest digits that round-trip (JavaScript finds the
 * same digits), laid out the Python way: exponent form when the decimal
 * exponent is below -4 or at least 16, otherwise positional with `.0` for
 * integral values.
 */
export function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest unique digits.
  const [mantissa = '', exponentText = '0'] = Math.abs(value)
    .toExponential()
    .split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const expSign = exponent < 0 ? '-' : '+';
    const expDigits = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${digits[0]}${fraction}e${expSign}${expDigits}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intLength = exponent + 1;
  if (digits.length <= intLength) {
    return `${sign}${digits.padEnd(intLength, '0')}.0`;
  }
  return `${sign}${digits.slice(0, intLength)}.${digits.slice(intLength)}`;
}

/** `repr(str)`: single quotes unless the text has `'` and no `"`. */
function reprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    out += escapeChar(char, quote);
  }
  return out + quote;
}

function escapeChar(char: string, quote: string): string {
  if (char === quote || char === '\\') return `\\${char}`;
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `\\x${hex(code, 2)}`;
  // Python escapes non-printable code points; C1 controls, surrogates and
  // line/paragraph separators are the common ones.
  if ((code >= 0x80 && code <= 0xa0) || code === 0xad) {
    return `\\x${hex(code, 2)}`;
  }
  if (/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(char)) {
    return code > 0xffff ? `\\U${hex(code, 8)}` : `\\u${hex(code, 4)}`;
  }
  if (/\p{Zs}/u.test(char) && char !== ' ') {
    return `\\u${hex(code, 4)}`;
  }
  return char;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}
