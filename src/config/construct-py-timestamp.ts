/**
 * PyYAML's `construct_yaml_timestamp`: a YAML 1.1 timestamp becomes a Python
 * `date` or `datetime`; kiln keeps what `str()` prints for it.
 */
import { PyTimestamp } from './py-scalars.js';

const TIMESTAMP =
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?)?$/;

/**
 * The timestamp for a text the timestamp resolver matched (or one tagged
 * `!!timestamp`); a string saying what is wrong when Python's `datetime`
 * would refuse it (PyYAML then fails with a ValueError).
 */
export function constructPyTimestamp(text: string): PyTimestamp | string {
  const match = TIMESTAMP.exec(text);
  if (!match) return `"${text}" is not a timestamp`;
  const [year, month, day] = [match[1], match[2], match[3]].map(Number) as [
    number,
    number,
    number,
  ];
  if (year < 1 || month < 1 || month > 12 || day < 1) {
    return `"${text}" is not a valid date`;
  }
  if (day > daysInMonth(year, month)) return `"${text}" is not a valid date`;
  const date = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  if (match[4] === undefined) return new PyTimestamp(date);

  const [hour, minute, second] = [match[4], match[5], match[6]].map(Number) as [
    number,
    number,
    number,
  ];
  if (hour > 23 || minute > 59 || second > 59) {
    return `"${text}" is not a valid time of day`;
  }
  const fraction = (match[7] ?? '').slice(0, 6).padEnd(6, '0');
  const micros = fraction === '000000' ? '' : `.${fraction}`;
  const zone = formatZone(match);
  if (zone === undefined)
    return `"${text}" has a time zone offset of 24 hours or more`;
  return new PyTimestamp(
    `${date} ${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${micros}${zone}`,
  );
}

/** Python prints `timezone(timedelta(...))` offsets as `+HH:MM`. */
function formatZone(match: RegExpExecArray): string | undefined {
  if (match[8] === undefined) return '';
  if (match[8] === 'Z') return '+00:00';
  const minutes = Number(match[10]) * 60 + Number(match[11] ?? 0);
  // datetime.timezone only takes offsets strictly inside one day.
  if (minutes >= 24 * 60) return undefined;
  const sign = match[9] === '-' && minutes > 0 ? '-' : '+';
  return `${sign}${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
