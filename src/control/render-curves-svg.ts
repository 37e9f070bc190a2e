/**
 * The chart image of a PR comment: one panel per metric curve, the PR's
 * run as a solid line and the base run's as a dashed one, drawn as a
 * self-contained SVG (no script, no external reference, every text
 * escaped), so GitHub's image proxy can show it in the comment. Pure.
 */
import type { MetricCurve } from './load-metric-curves.js';

export interface RenderCurvesSvgOptions {
  curves: readonly MetricCurve[];
  /** `this PR (abc1234)` */
  headLabel: string;
  /** `main (def5678)`; absent when there is no base run. */
  baseLabel?: string;
}

const PANEL_WIDTH = 380;
const PANEL_HEIGHT = 230;
const COLUMNS = 2;
const LEGEND = 34;
const MARGIN = { left: 58, right: 14, top: 30, bottom: 36 };
/** More points than pixels only make the file bigger. */
const MAX_POINTS = 400;
const HEAD_COLOUR = '#0969da';
const BASE_COLOUR = '#6e7781';

export function renderCurvesSvg(options: RenderCurvesSvgOptions): string {
  const { curves } = options;
  const columns = Math.min(COLUMNS, Math.max(1, curves.length));
  const rows = Math.max(1, Math.ceil(curves.length / columns));
  const width = columns * PANEL_WIDTH;
  const height = LEGEND + rows * PANEL_HEIGHT;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="-apple-system,Segoe UI,Helvetica,Arial,sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...renderLegend(options),
  ];
  curves.forEach((curve, index) => {
    const x = (index % columns) * PANEL_WIDTH;
    const y = LEGEND + Math.floor(index / columns) * PANEL_HEIGHT;
    parts.push(`<g transform="translate(${x},${y})">`, ...renderPanel(curve));
    parts.push('</g>');
  });
  if (curves.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${LEGEND + 40}" text-anchor="middle" fill="#57606a">no metric curves</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function renderLegend(options: RenderCurvesSvgOptions): string[] {
  const out = [
    `<line x1="12" y1="18" x2="40" y2="18" stroke="${HEAD_COLOUR}" stroke-width="2.5"/>`,
    `<text x="46" y="22" fill="#24292f">${escapeXml(options.headLabel)}</text>`,
  ];
  if (options.baseLabel !== undefined) {
    out.push(
      `<line x1="260" y1="18" x2="288" y2="18" stroke="${BASE_COLOUR}" stroke-width="2" stroke-dasharray="6 4"/>`,
      `<text x="294" y="22" fill="#24292f">${escapeXml(options.baseLabel)}</text>`,
    );
  }
  return out;
}

function renderPanel(curve: MetricCurve): string[] {
  const plotWidth = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const all = [...curve.head, ...(curve.base ?? [])];
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [xMin, xMax] = span(xs);
  const [yLow, yHigh] = span(ys);
  // A little room above and below, so no line runs along the frame.
  const yMin = yLow - (yHigh - yLow) * 0.05;
  const yMax = yHigh + (yHigh - yLow) * 0.05;
  const toX = (x: number) =>
    MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const toY = (y: number) =>
    MARGIN.top + plotHeight - ((y - yMin) / (yMax - yMin)) * plotHeight;
  const title = `${curve.metric} · ${curve.node}`;
  const out = [
    `<text x="${MARGIN.left}" y="18" font-size="12" font-weight="600" fill="#24292f">${escapeXml(title)}</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#d0d7de"/>`,
  ];
  for (const tick of ticks(yMin, yMax)) {
    const y = round(toY(tick));
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotWidth}" y2="${y}" stroke="#eaeef2"/>`,
      `<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end" fill="#57606a">${formatTick(tick)}</text>`,
    );
  }
  for (const tick of ticks(xMin, xMax)) {
    const x = round(toX(tick));
    out.push(
      `<text x="${x}" y="${MARGIN.top + plotHeight + 15}" text-anchor="middle" fill="#57606a">${formatTick(tick)}</text>`,
    );
  }
  out.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${PANEL_HEIGHT - 6}" text-anchor="middle" fill="#57606a">${escapeXml(curve.xLabel)}</text>`,
  );
  if (curve.base && curve.base.length > 0) {
    out.push(
      polyline(curve.base, toX, toY, {
        colour: BASE_COLOUR,
        width: 1.6,
        dashed: true,
      }),
    );
  }
  out.push(
    polyline(curve.head, toX, toY, {
      colour: HEAD_COLOUR,
      width: 2,
      dashed: false,
    }),
  );
  return out;
}

function polyline(
  points: ReadonlyArray<[number, number]>,
  toX: (x: number) => number,
  toY: (y: number) => number,
  style: { colour: string; width: number; dashed: boolean },
): string {
  const { colour } = style;
  const kept = thin(points);
  if (kept.length === 1) {
    const [x, y] = kept[0] as [number, number];
    return `<circle cx="${round(toX(x))}" cy="${round(toY(y))}" r="3" fill="${colour}"/>`;
  }
  const text = kept
    .map(([x, y]) => `${round(toX(x))},${round(toY(y))}`)
    .join(' ');
  const dash = style.dashed ? ' stroke-dasharray="6 4"' : '';
  return `<polyline fill="none" stroke="${colour}" stroke-width="${style.width}"${dash} points="${text}"/>`;
}

/** Every n-th point and the last, at most MAX_POINTS. */
function thin(
  points: ReadonlyArray<[number, number]>,
): ReadonlyArray<[number, number]> {
  if (points.length <= MAX_POINTS) return points;
  const every = Math.ceil(points.length / MAX_POINTS);
  const kept = points.filter((_, index) => index % every === 0);
  const last = points.at(-1);
  if (last && kept.at(-1) !== last) kept.push(last);
  return kept;
}

/** Min and max, widened when flat so the line sits in the middle. */
function span(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (min === max) {
    const pad = Math.abs(min) * 0.05 || 1;
    min -= pad;
    max += pad;
  }
  return [min, max];
}

/** About five round values between min and max. */
function ticks(min: number, max: number): number[] {
  const raw = (max - min) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step =
    [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ??
    10 * magnitude;
  const out: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max; value += step) {
    out.push(Number(value.toPrecision(12)));
    if (out.length > 10) break;
  }
  return out;
}

function formatTick(value: number): string {
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3))
    return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Markup characters escaped; control characters (not allowed in XML) dropped. */
export function escapeXml(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (
      (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) ||
      code === 0xfffe ||
      code === 0xffff
    )
      continue;
    out += XML_ESCAPES[char] ?? char;
  }
  return out;
}

const XML_ESCAPES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  "'": '&apos;',
  '"': '&quot;',
};
