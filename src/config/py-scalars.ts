/**
 * Scalar values that JavaScript cannot tell apart from its own types but
 * Python (and so Valohai) can. YAML `1.0` is a float and `1` an int: both are
 * the JS number 1, yet Python renders them as `1.0` and `1` in commands. The
 * YAML reader therefore wraps floats and timestamps; plain JS numbers are ints.
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

/** A number from YAML, whether it was written as an int or a float. */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof PyFloat) return value.value;
  return undefined;
}
