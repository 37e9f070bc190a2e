/**
 * The text of a float for one presentation type, as CPython's
 * `PyOS_double_to_string` builds it (before sign, grouping and padding,
 * which format-python-value.ts adds). Digits are exact: a double is a
 * fraction m / 2^k, rounded here with BigInt arithmetic, half to even, as
 * Python rounds (JavaScript's `toFixed` rounds half up: 0.125 → "0.13",
 * where Python prints "0.12").
 */
import { formatFloat } from './python-str.js';

export interface FloatFormat {
  /** `e`, `f`, `g` (also for `n`), or `r` for repr (the omitted type). */
  type: 'e' | 'f' | 'g' | 'r';
  /** Digits; undefined for `r`. */
  precision?: number;
  /** `#`: always a decimal point; `g` keeps trailing zeros. */
  alternate: boolean;
  /** The omitted type with a precision: `.0` on integral results. */
  addDotZero: boolean;
}

/** Text of |value| (no sign); `inf`/`nan` for the special values. */
export function formatPyFloatMagnitude(
  value: number,
  format: FloatFormat,
): string {
  const magnitude = Math.abs(value);
  if (Number.isNaN(magnitude)) return 'nan';
  if (magnitude === Infinity) return 'inf';
  switch (format.type) {
    case 'r':
      return addPoint(formatFloat(magnitude), format.alternate);
    case 'f':
      return formatFixed(magnitude, format.precision ?? 6, format.alternate);
    case 'e':
      return formatExponent(
        scientificDigits(magnitude, (format.precision ?? 6) + 1),
        format.alternate,
      );
    case 'g':
      return formatGeneral(magnitude, format);
  }
}

function formatFixed(
  magnitude: number,
  precision: number,
  alternate: boolean,
): string {
  const { numerator, denominator } = toFraction(magnitude);
  const scaled = divideRounded(
    numerator * 10n ** BigInt(precision),
    denominator,
  )
    .toString()
    .padStart(precision + 1, '0');
  const whole = scaled.slice(0, scaled.length - precision);
  if (precision === 0) return alternate ? `${whole}.` : whole;
  return `${whole}.${scaled.slice(scaled.length - precision)}`;
}

function formatExponent(
  scientific: { digits: string; exponent: number },
  alternate: boolean,
): string {
  const { digits, exponent } = scientific;
  const fraction = digits.slice(1);
  const point = fraction !== '' || alternate ? '.' : '';
  return `${digits[0] ?? '0'}${point}${fraction}e${exponentText(exponent)}`;
}

/** `g`: significant digits, fixed or exponent form by the exponent. */
function formatGeneral(magnitude: number, format: FloatFormat): string {
  const precision = Math.max(format.precision ?? 6, 1);
  const scientific = scientificDigits(magnitude, precision);
  const { exponent } = scientific;
  // Trailing zeros go unless `#` (one digit always stays).
  const digits = format.alternate
    ? scientific.digits
    : scientific.digits.replace(/(?<=.)0+$/, '');
  // CPython: exponent form when decpt <= -4 or decpt > precision, one
  // less with add-dot-0 (decpt = exponent + 1).
  const limit = format.addDotZero ? precision - 1 : precision;
  if (exponent < -4 || exponent + 1 > limit) {
    return formatExponent({ digits, exponent }, format.alternate);
  }
  let text: string;
  if (exponent < 0) {
    text = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  } else if (digits.length > exponent + 1) {
    text = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  } else {
    text = digits.padEnd(exponent + 1, '0');
    if (format.alternate) text += '.';
  }
  if (format.addDotZero && !text.includes('.')) text += '.0';
  return text;
}

/** `1.e+16` for `#` on a repr without a point. */
function addPoint(text: string, alternate: boolean): string {
  if (!alternate || text.includes('.')) return text;
  const e = text.indexOf('e');
  return e === -1 ? `${text}.` : `${text.slice(0, e)}.${text.slice(e)}`;
}

function exponentText(exponent: number): string {
  const sign = exponent < 0 ? '-' : '+';
  return `${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/**
 * `count` significant digits of `magnitude` (≥ 0), rounded half to even,
 * and the decimal exponent of the first digit.
 */
function scientificDigits(
  magnitude: number,
  count: number,
): { digits: string; exponent: number } {
  if (magnitude === 0) return { digits: '0'.repeat(count), exponent: 0 };
  const { numerator, denominator } = toFraction(magnitude);
  const atLeastPowerOfTen = (exponent: number): boolean =>
    exponent >= 0
      ? numerator >= denominator * 10n ** BigInt(exponent)
      : numerator * 10n ** BigInt(-exponent) >= denominator;
  // log10 is close; the exact comparisons settle the last step.
  let exponent = Math.floor(Math.log10(magnitude));
  while (!atLeastPowerOfTen(exponent)) exponent -= 1;
  while (atLeastPowerOfTen(exponent + 1)) exponent += 1;
  const shift = count - 1 - exponent;
  let scaled =
    shift >= 0
      ? divideRounded(numerator * 10n ** BigInt(shift), denominator)
      : divideRounded(numerator, denominator * 10n ** BigInt(-shift));
  if (scaled === 10n ** BigInt(count)) {
    scaled = 10n ** BigInt(count - 1);
    exponent += 1;
  }
  return { digits: scaled.toString(), exponent };
}

/** A finite double ≥ 0 as the exact fraction numerator / denominator. */
function toFraction(magnitude: number): {
  numerator: bigint;
  denominator: bigint;
} {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, magnitude);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  return exponent >= 0
    ? { numerator: mantissa << BigInt(exponent), denominator: 1n }
    : { numerator: mantissa, denominator: 1n << BigInt(-exponent) };
}

/** numerator / denominator rounded half to even (both ≥ 0). */
function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) {
    return quotient + 1n;
  }
  return quotient;
}
