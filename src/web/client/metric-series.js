/**
 * Metric events → charts, shared by the browser (drawing, live points)
 * and the server pages (placeholders and text alternatives): a metric
 * printed at least twice by some execution is a series and gets a chart,
 * one line per execution; a metric printed once is a number (shown in the
 * metrics tables, not drawn). The x axis is the `step`, `epoch` or
 * `iteration` the lines carry when every execution on the chart has it,
 * else the seconds since the execution's first metric line.
 */

export const X_KEYS = ['step', 'epoch', 'iteration'];

/** The x key an execution's events carry, if any. */
export function xKeyOf(events) {
  return X_KEYS.find((key) =>
    events.some((event) => typeof event.values[key] === 'number'),
  );
}

function numeric(value) {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * `items`: `[{key, label, events}]` (one per execution). Returns
 * `[{metric, xLabel, series: [{key, label, points: [[x, y], …]}]}]`,
 * metrics in first-seen order, at most 48 charts.
 */
export function buildCharts(items) {
  const counts = new Map();
  const order = [];
  for (const item of items) {
    const xKey = xKeyOf(item.events);
    const seen = new Map();
    for (const event of item.events) {
      for (const [name, value] of Object.entries(event.values)) {
        if (name === xKey || !numeric(value)) continue;
        seen.set(name, (seen.get(name) ?? 0) + 1);
      }
    }
    for (const [name, count] of seen) {
      if (!counts.has(name)) order.push(name);
      counts.set(name, Math.max(counts.get(name) ?? 0, count));
    }
  }
  const charts = [];
  for (const metric of order) {
    if ((counts.get(metric) ?? 0) < 2) continue;
    const members = items.filter((item) =>
      item.events.some((event) => numeric(event.values[metric])),
    );
    const keys = members.map((item) => xKeyOf(item.events));
    const shared = keys.every((key) => key && key === keys[0])
      ? keys[0]
      : undefined;
    const series = members.map((item) => ({
      key: item.key,
      label: item.label,
      points: pointsOf(item.events, metric, shared),
    }));
    charts.push({ metric, xLabel: shared ?? 'seconds', series });
    if (charts.length >= 48) break;
  }
  return charts;
}

/** [x, y] pairs of one metric: x by `xKey`, else seconds since the first line. */
export function pointsOf(events, metric, xKey) {
  const start = events.length > 0 ? Date.parse(events[0].time) : 0;
  const points = [];
  events.forEach((event, index) => {
    const value = event.values[metric];
    if (!numeric(value)) return;
    let x;
    if (xKey) x = event.values[xKey];
    else {
      const at = Date.parse(event.time);
      x =
        Number.isFinite(at) && Number.isFinite(start)
          ? (at - start) / 1000
          : index;
    }
    if (numeric(x)) points.push([x, value]);
  });
  return points;
}

/** A sentence per series: what a chart shows, for screen readers. */
export function describeChart(chart) {
  const parts = chart.series.map((series) => {
    const values = series.points.map((point) => point[1]);
    if (values.length === 0) return `${series.label}: no points`;
    const last = values[values.length - 1];
    const round = (value) => Number(value.toPrecision(4));
    return `${series.label}: ${values.length} points over ${chart.xLabel} ${round(series.points[0][0])}–${round(series.points[series.points.length - 1][0])}, from ${round(values[0])} to ${round(last)} (min ${round(Math.min(...values))}, max ${round(Math.max(...values))})`;
  });
  return `${chart.metric} by ${chart.xLabel}. ${parts.join('; ')}.`;
}
