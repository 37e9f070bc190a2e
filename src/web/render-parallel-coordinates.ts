/**
 * A task's children as a parallel-coordinates plot in inline SVG: one
 * vertical axis per varied parameter and per metric, one line per child
 * through its values, coloured from the best (green) to the worst (red)
 * by the task's goal; the best child's line is drawn last and thick.
 * Numbers are scaled to each axis's range (log when a positive range spans
 * two decades or more), anything else is placed by its order among the
 * axis's values. Every label is escaped.
 */
import { escapeHtml, raw, type SafeHtml } from './html.js';

export interface ParallelLine {
  name: string;
  values: Readonly<Record<string, unknown>>;
  /** 0 best … 1 worst; undefined: no result (drawn grey). */
  rank?: number;
  best?: boolean;
}

const WIDTH = 760;
const HEIGHT = 260;
const TOP = 28;
const BOTTOM = 24;
const SIDE = 60;

export function renderParallelCoordinates(
  axes: readonly string[],
  lines: readonly ParallelLine[],
): SafeHtml {
  if (axes.length === 0 || lines.length === 0) return raw('');
  const gap = axes.length > 1 ? (WIDTH - 2 * SIDE) / (axes.length - 1) : 0;
  const scales = axes.map((axis) =>
    scaleOf(lines.map((line) => line.values[axis])),
  );
  const yOf = (axis: number, value: unknown): number | undefined => {
    const t = (scales[axis] as Scale)(value);
    return t === undefined
      ? undefined
      : TOP + (1 - t) * (HEIGHT - TOP - BOTTOM);
  };
  const parts: string[] = [
    `<svg class="parallel" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="children by parameter and metric">`,
  ];
  const ordered = [...lines].sort(
    (a, b) => Number(a.best ?? false) - Number(b.best ?? false),
  );
  for (const line of ordered) {
    const points: string[] = [];
    axes.forEach((axis, index) => {
      const y = yOf(index, line.values[axis]);
      if (y !== undefined)
        points.push(`${(SIDE + index * gap).toFixed(1)},${y.toFixed(1)}`);
    });
    if (points.length < 2) continue;
    parts.push(
      `<polyline fill="none" stroke="${colorOf(line.rank)}" stroke-width="${line.best ? 3 : 1.2}" stroke-opacity="${line.best ? 1 : 0.7}" points="${points.join(' ')}"><title>${escapeHtml(line.name)}</title></polyline>`,
    );
  }
  axes.forEach((axis, index) => {
    const x = SIDE + index * gap;
    const range = extentLabels(lines.map((line) => line.values[axis]));
    parts.push(
      `<line x1="${x}" y1="${TOP}" x2="${x}" y2="${HEIGHT - BOTTOM}" stroke="#374151" />`,
      `<text x="${x}" y="${TOP - 12}" text-anchor="middle" font-size="12" font-weight="bold">${escapeHtml(axis)}</text>`,
      `<text x="${x + 4}" y="${TOP + 4}" font-size="10" fill="#6b7280">${escapeHtml(range.top)}</text>`,
      `<text x="${x + 4}" y="${HEIGHT - BOTTOM + 12}" font-size="10" fill="#6b7280">${escapeHtml(range.bottom)}</text>`,
    );
  });
  parts.push('</svg>');
  return raw(parts.join(''));
}

type Scale = (value: unknown) => number | undefined;

function scaleOf(values: readonly unknown[]): Scale {
  const numbers = values.filter(
    (value): value is number =>
      typeof value === 'number' && Number.isFinite(value),
  );
  if (
    numbers.length > 0 &&
    numbers.length === values.filter((v) => v !== undefined).length
  ) {
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    if (min === max)
      return (value) => (typeof value === 'number' ? 0.5 : undefined);
    const log = min > 0 && max / min >= 100;
    const f = log ? Math.log : (x: number) => x;
    return (value) =>
      typeof value === 'number' && Number.isFinite(value)
        ? (f(value) - f(min)) / (f(max) - f(min))
        : undefined;
  }
  const keys = [
    ...new Set(
      values.filter((v) => v !== undefined).map((v) => JSON.stringify(v)),
    ),
  ].sort();
  return (value) => {
    if (value === undefined) return undefined;
    const index = keys.indexOf(JSON.stringify(value));
    return keys.length === 1 ? 0.5 : index / (keys.length - 1);
  };
}

function extentLabels(values: readonly unknown[]): {
  top: string;
  bottom: string;
} {
  const numbers = values.filter(
    (value): value is number =>
      typeof value === 'number' && Number.isFinite(value),
  );
  if (numbers.length > 0) {
    return {
      top: short(Math.max(...numbers)),
      bottom: short(Math.min(...numbers)),
    };
  }
  const keys = [
    ...new Set(values.filter((v) => v !== undefined).map(String)),
  ].sort();
  return { top: keys.at(-1) ?? '', bottom: keys[0] ?? '' };
}

function short(value: number): string {
  return Number.isInteger(value)
    ? String(value)
    : String(Number(value.toPrecision(4)));
}

/** Green (0, best) through amber to red (1, worst); grey without a result. */
function colorOf(rank: number | undefined): string {
  if (rank === undefined) return '#9ca3af';
  const hue = Math.round(120 * (1 - Math.min(1, Math.max(0, rank))));
  return `hsl(${hue}, 70%, 42%)`;
}
