/**
 * The execution page, live: the log viewer follows the log; the run's
 * live stream brings this execution's state changes (its regions — end,
 * metrics, lineage — are re-read from the server) and its metric points.
 */
import { createCharts } from './charts.js';
import { createRegionRefresher } from './live-regions.js';
import { createLogView } from './log-view.js';

export function start() {
  const logRoot = document.querySelector('[data-log-view]');
  if (logRoot) window.kilnLog = createLogView(logRoot);
  const chartsRoot = document.querySelector('[data-charts="execution-charts"]');
  const charts = chartsRoot ? createCharts(chartsRoot) : null;
  const live = document.getElementById('execution-live');
  if (!live || live.getAttribute('data-active') !== 'true') return;
  const runId = live.getAttribute('data-run');
  const node = live.getAttribute('data-node');
  const executionId = live.getAttribute('data-execution');
  const refresher = createRegionRefresher({ url: () => location.pathname });
  const source = new EventSource(
    `/api/runs/${encodeURIComponent(runId)}/live?after=${encodeURIComponent(live.getAttribute('data-after') || '0')}`,
  );
  source.addEventListener('open', () =>
    live.setAttribute('data-connected', 'true'),
  );
  const mine = (data) =>
    data.kind === 'nodes' ? data.nodes.includes(node) : data.node === node;
  const onNode = (event) => {
    const data = JSON.parse(event.data);
    if (!mine(data)) return;
    if (data.status !== 'started') void refresher.now();
    else refresher.schedule();
  };
  source.addEventListener('node', onNode);
  source.addEventListener('nodes', onNode);
  source.addEventListener('metrics', (event) => {
    const data = JSON.parse(event.data);
    if (charts && data.executionId === executionId) {
      charts.addEvents(data.executionId, data.node, data.from, data.events);
    }
  });
  source.addEventListener('end', () => {
    source.close();
    void refresher.now().then(() => live.setAttribute('data-ended', 'true'));
  });
}
