/**
 * `JSON.stringify(value, null, indent)` for plain data, except that a
 * bigint prints as its exact digits (a JSON number). Node 20 has no
 * `JSON.rawJSON`, and `JSON.stringify` refuses bigints; Python's `json`
 * reads such a number back as the exact int, which is what a Valohai step
 * reading /valohai/config/parameters.json expects.
 */
export function stringifyExactJson(value: unknown, indent = 2): string {
  return write(value, '', ' '.repeat(indent)) ?? 'null';
}

/** The JSON text, or undefined where JSON.stringify would skip the value. */
function write(
  value: unknown,
  current: string,
  step: string,
): string | undefined {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) as string | undefined;
  }
  const inner = current + step;
  const open = step === '' ? '' : `\n${inner}`;
  const close = step === '' ? '' : `\n${current}`;
  const separator = step === '' ? ',' : `,\n${inner}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => write(item, inner, step) ?? 'null');
    return `[${open}${items.join(separator)}${close}]`;
  }
  const entries: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    const text = write(item, inner, step);
    if (text !== undefined) {
      entries.push(`${JSON.stringify(key)}:${step === '' ? '' : ' '}${text}`);
    }
  }
  if (entries.length === 0) return '{}';
  return `{${open}${entries.join(separator)}${close}}`;
}
