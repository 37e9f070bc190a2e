/**
 * Durations as `valohai-yaml` reads them: an integer number of seconds, or a
 * string of numbers with units (`1h 30m`, `2d`, `90s`) where only the first
 * letter of the unit counts (`5 minutes` = `5m`). The sum must be positive.
 */
const unitSeconds: Record<string, number> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
};

const part = /^(\d+(?:\.\d+)?)\s*([a-z]*)[\s,]*/i;

/** Seconds, or undefined when the value is not a valid duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value > 0 ? value : undefined;
  }
  if (typeof value === 'bigint') return value > 0n ? Number(value) : undefined;
  if (typeof value !== 'string' || value.length > 200) return undefined;
  let rest = value.trim();
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const match = part.exec(rest);
    if (match === null) return undefined;
    const amount = Number(match[1]);
    const unit = (match[2] ?? '').toLowerCase().slice(0, 1);
    const factor = unit === '' ? 1 : unitSeconds[unit];
    if (factor === undefined) return undefined;
    total += amount * factor;
    rest = rest.slice(match[0].length);
  }
  return total > 0 ? Math.round(total) : undefined;
}
