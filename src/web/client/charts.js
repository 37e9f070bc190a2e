/**
 * Metric curves drawn with uPlot from the JSON a page embeds, and kept
 * live: `addEvents` takes the points a live stream sends (with their
 * position in the execution's stored list, so points the page already had
 * are not added twice) and redraws. Which metrics get a chart, and their x
 * axis, is metric-series.js's decision (the server uses it too).
 */
import { buildCharts, describeChart } from './metric-series.js';

const COLORS = [
  '#1d4ed8',
  '#b91c1c',
  '#15803d',
  '#7e22ce',
  '#c2410c',
  '#0e7490',
  '#4d7c0f',
  '#be185d',
];

export function createCharts(root) {
  const source = document.getElementById(root.getAttribute('data-source'));
  const items = source ? JSON.parse(source.textContent) : [];
  // How many stored points each execution had (the page may carry fewer).
  const positions = new Map(
    items.map((item) => [item.key, item.total ?? item.events.length]),
  );
  const plots = new Map();
  window.kilnCharts = window.kilnCharts || {};
  let pending = false;

  function figureFor(metric) {
    let figure = [...root.querySelectorAll('figure[data-chart]')].find(
      (element) => element.getAttribute('data-chart') === metric,
    );
    if (!figure) {
      figure = document.createElement('figure');
      figure.className = 'chart';
      figure.setAttribute('data-chart', metric);
      const caption = document.createElement('figcaption');
      caption.textContent = metric;
      const canvas = document.createElement('div');
      canvas.className = 'chart-canvas';
      canvas.setAttribute('role', 'img');
      const text = document.createElement('p');
      text.className = 'sr-only';
      text.setAttribute('data-chart-text', '');
      figure.append(caption, canvas, text);
      root.appendChild(figure);
    }
    return figure;
  }

  function columnsOf(chart) {
    const xs = [
      ...new Set(
        chart.series.flatMap((series) =>
          series.points.map((point) => point[0]),
        ),
      ),
    ].sort((a, b) => a - b);
    return [
      xs,
      ...chart.series.map((series) => {
        const byX = new Map(series.points.map((point) => [point[0], point[1]]));
        return xs.map((x) => (byX.has(x) ? byX.get(x) : null));
      }),
    ];
  }

  function draw() {
    pending = false;
    const charts = buildCharts(items);
    const empty = root.querySelector('[data-no-charts]');
    if (empty && charts.length > 0) empty.remove();
    for (const chart of charts) {
      const figure = figureFor(chart.metric);
      const canvas = figure.querySelector('.chart-canvas');
      const description = describeChart(chart);
      canvas.setAttribute('aria-label', description);
      figure.querySelector('[data-chart-text]').textContent = description;
      const data = columnsOf(chart);
      const known = plots.get(chart.metric);
      const signature = chart.series.map((series) => series.key).join('\n');
      if (known && known.signature === signature) {
        known.plot.setData(data);
      } else {
        if (known) known.plot.destroy();
        if (typeof window.uPlot === 'undefined') continue;
        const width = Math.max(
          260,
          Math.min(720, canvas.clientWidth || root.clientWidth || 600),
        );
        const plot = new window.uPlot(
          {
            width,
            height: 220,
            scales: { x: { time: false } },
            axes: [{ label: chart.xLabel }, {}],
            legend: { live: false },
            series: [
              { label: chart.xLabel },
              ...chart.series.map((series, index) => ({
                label: series.label,
                stroke: COLORS[index % COLORS.length],
                width: 2,
                spanGaps: true,
                points: { show: series.points.length < 60 },
              })),
            ],
          },
          data,
          canvas,
        );
        plots.set(chart.metric, { plot, signature });
        window.kilnCharts[chart.metric] = plot;
        for (const series of chart.series)
          window.kilnCharts[`${series.key}:${chart.metric}`] = plot;
      }
    }
  }

  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(draw);
  }

  if (typeof ResizeObserver !== 'undefined') {
    let width = root.clientWidth;
    new ResizeObserver(() => {
      if (Math.abs(root.clientWidth - width) < 40) return;
      width = root.clientWidth;
      for (const { plot } of plots.values()) {
        const canvas = plot.root.parentElement;
        plot.setSize({
          width: Math.max(260, Math.min(720, canvas.clientWidth)),
          height: 220,
        });
      }
    }).observe(root);
  }

  draw();
  return {
    /** Live points of an execution; `from` is the first one's position. */
    addEvents(key, label, from, events) {
      let item = items.find((entry) => entry.key === key);
      if (!item) {
        item = { key, label, events: [] };
        items.push(item);
        positions.set(key, 0);
      }
      const have = positions.get(key) ?? 0;
      if (from + events.length <= have) return;
      const fresh = from < have ? events.slice(have - from) : events;
      item.events.push(...fresh);
      positions.set(key, from + events.length);
      schedule();
    },
    count() {
      return plots.size;
    },
  };
}
