/**
 * Scalar values that JavaScript cannot tell apart from its own types but
 * Python (and so Valohai) can. YAML `1.0` is a float and `1` an int: both are
 * the JS number 1, yet Python renders them as `1.0` and `1` in commands. The
 * YAML reader therefore wraps floats and timestamps; plain JS numbers are ints.
 *
 * Ints: a JS number when it is exact (within ±(2^53 − 1)), else a `bigint`
 * with every digit, as Python keeps them (`9007199254740993` must not become
 * `…992`). The YAML reader, parameter conversion and command building all
 * use this one representation; JSON written for kiln's own records turns a
 * bigint into its decimal text (container-contract.ts `toJsonValue`), and the
 * container's /valohai/config files print it as a JSON number.
 */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** A YAML 1.1 timestamp (PyYAML gives a date or datetime). */
export class PyTimestamp {
  /** What Python's `str()` prints for the date/datetime. */
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export function isPyFloat(value: unknown): value is PyFloat {
  return value instanceof PyFloat;
}

/**
 * A number from YAML, whether it was written as an int or a float; a huge
 * int is rounded to the nearest JS number (see `asExactNumber`).
 */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof PyFloat) return value.value;
  return undefined;
}

/**
 * As `asNumber`, but a huge int stays an exact bigint: JavaScript compares a
 * bigint with a number exactly, as Python compares an int with a float.
 */
export function asExactNumber(value: unknown): number | bigint | undefined {
  return typeof value === 'bigint' ? value : asNumber(value);
}
