/**
 * The run page, live: one Server-Sent Events stream (`/api/runs/:id/live`)
 * brings the run's events, the metric points and newest log lines of its
 * running steps. States change in place at once (graph, badges); the
 * page's regions (failure panel, steps, metrics, outputs, comparison) are
 * re-read from the server after a change; charts grow point by point.
 * When the run ends, the page shows it right away.
 */
import { createCharts } from './charts.js';
import { createRegionRefresher } from './live-regions.js';
import { lineElement } from './log-view.js';

const FINAL = ['complete', 'error', 'stopped', 'cancelled'];

function setBadge(element, status) {
  if (!element) return;
  element.className = element.className.replace(
    /status-[a-z-]+/,
    `status-${status}`,
  );
  element.textContent = status;
}

function setNode(name, status) {
  for (const group of document.querySelectorAll('svg.dag g.dag-node')) {
    if (group.getAttribute('data-node') !== name) continue;
    group.setAttribute('data-status', status);
    const text = group.querySelector('.dag-status');
    if (text) text.textContent = status;
    const title = group.querySelector('title');
    if (title) title.textContent = `${name}: ${status}`;
  }
  for (const row of document.querySelectorAll('table.steps tr[data-node]')) {
    if (row.getAttribute('data-node') === name)
      setBadge(row.querySelector('[data-node-status]'), status);
  }
}

export function start() {
  const live = document.getElementById('run-live');
  const chartsRoot = document.querySelector('[data-charts="run-charts"]');
  const charts = chartsRoot ? createCharts(chartsRoot) : null;
  if (!live || live.getAttribute('data-active') !== 'true') return;
  const id = live.getAttribute('data-run');
  // A task's children are on the task's page, not here.
  const tasks = JSON.parse(live.getAttribute('data-tasks') || '[]');
  const inTask = (node) =>
    typeof node === 'string' &&
    tasks.some(
      (task) =>
        /^[#@]\d+$/.test(node.slice(task.length)) && node.startsWith(task),
    );
  const refresher = createRegionRefresher({ url: () => location.pathname });
  const source = new EventSource(
    `/api/runs/${encodeURIComponent(id)}/live?after=${encodeURIComponent(live.getAttribute('data-after') || '0')}`,
  );
  // Tests and people can tell the page is live.
  source.addEventListener('open', () =>
    live.setAttribute('data-connected', 'true'),
  );
  const onNode = (event) => {
    const data = JSON.parse(event.data);
    for (const name of data.kind === 'nodes' ? data.nodes : [data.node])
      setNode(name, data.status);
    refresher.schedule();
  };
  source.addEventListener('node', onNode);
  source.addEventListener('nodes', onNode);
  source.addEventListener('run', (event) => {
    const data = JSON.parse(event.data);
    setBadge(document.querySelector('[data-run-status]'), data.status);
    if (FINAL.includes(data.status)) {
      live.setAttribute('data-active', 'false');
      void refresher.now();
    } else {
      refresher.schedule();
    }
  });
  source.addEventListener('metrics', (event) => {
    const data = JSON.parse(event.data);
    if (inTask(data.node)) return;
    if (charts)
      charts.addEvents(data.executionId, data.node, data.from, data.events);
  });
  source.addEventListener('tail', (event) => {
    const data = JSON.parse(event.data);
    if (inTask(data.node)) return;
    const box = [...document.querySelectorAll('[data-tail]')].find(
      (element) => element.getAttribute('data-tail') === data.executionId,
    );
    if (!box) {
      refresher.schedule();
      return;
    }
    // The box shows a log's end: only lines after the last one shown (the
    // stream's first batch may reach further back than the page did).
    let last = Math.max(
      -1,
      ...[...box.querySelectorAll('[data-seq]')].map((row) =>
        Number(row.getAttribute('data-seq')),
      ),
    );
    box.querySelector('.log-note')?.remove();
    for (const line of data.lines) {
      if (line.seq <= last) continue;
      box.appendChild(lineElement(data.executionId, line));
      last = line.seq;
    }
    const rows = box.querySelectorAll('.log-line');
    for (let index = 0; index < rows.length - 60; index += 1)
      rows[index].remove();
  });
  source.addEventListener('end', () => {
    source.close();
    live.setAttribute('data-active', 'false');
    void refresher.now().then(() => live.setAttribute('data-ended', 'true'));
  });
}
