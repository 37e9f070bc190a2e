/**
 * PyYAML's `construct_yaml_int` and `construct_yaml_float`: how a scalar the
 * resolver typed as a number (or one tagged `!!int`/`!!float`) becomes one.
 * Both return `undefined` where PyYAML would raise a ValueError.
 */

/** CPython refuses to convert longer digit strings (int_max_str_digits). */
const MAX_INT_DIGITS = 4300;

/** The exact int, as Python computes it: `_` ignored, `0b`/`0x`/`0` prefixes, `a:b` base 60. */
export function constructPyInt(text: string): bigint | undefined {
  const { sign, body } = splitSign(text.replaceAll('_', ''));
  if (body.length > MAX_INT_DIGITS) return undefined;
  const magnitude = readIntBody(body);
  return magnitude === undefined ? undefined : sign * magnitude;
}

/** The float, as Python computes it (`float()` for the plain forms). */
export function constructPyFloat(text: string): number | undefined {
  const { sign, body } = splitSign(text.replaceAll('_', '').toLowerCase());
  const factor = sign < 0n ? -1 : 1;
  if (body === '.inf') return factor * Infinity;
  if (body === '.nan') return NaN;
  if (body.includes(':')) {
    let total = 0;
    for (const part of body.split(':')) {
      const value = readPythonFloat(part);
      if (value === undefined) return undefined;
      total = total * 60 + value;
    }
    return factor * total;
  }
  const value = readPythonFloat(body);
  return value === undefined ? undefined : factor * value;
}

function splitSign(text: string): { sign: bigint; body: string } {
  const first = text[0];
  if (first === '-') return { sign: -1n, body: text.slice(1) };
  if (first === '+') return { sign: 1n, body: text.slice(1) };
  return { sign: 1n, body: text };
}

function readIntBody(body: string): bigint | undefined {
  if (body === '0') return 0n;
  if (body.startsWith('0b')) {
    return /^[01]+$/.test(body.slice(2)) ? BigInt(body) : undefined;
  }
  if (body.startsWith('0x')) {
    return /^[0-9a-fA-F]+$/.test(body.slice(2)) ? BigInt(body) : undefined;
  }
  if (body.startsWith('0')) {
    return /^[0-7]+$/.test(body) ? BigInt(`0o${body}`) : undefined;
  }
  if (body.includes(':')) {
    let total = 0n;
    for (const part of body.split(':')) {
      if (!/^[0-9]+$/.test(part)) return undefined;
      total = total * 60n + BigInt(part);
    }
    return total;
  }
  return /^[0-9]+$/.test(body) ? BigInt(body) : undefined;
}

const PYTHON_FLOAT =
  /^[ \t\n\r\f\v]*[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?|inf|infinity|nan)[ \t\n\r\f\v]*$/;

/** Python's `float()` on an already lower-cased text; ASCII forms only. */
function readPythonFloat(text: string): number | undefined {
  if (!PYTHON_FLOAT.test(text)) return undefined;
  const trimmed = text.trim();
  const negative = trimmed.startsWith('-');
  const unsigned = trimmed.replace(/^[-+]/, '');
  if (unsigned === 'nan') return NaN;
  if (unsigned === 'inf' || unsigned === 'infinity') {
    return negative ? -Infinity : Infinity;
  }
  return Number(trimmed);
}
