/**
 * Compare, in the browser: charts of the curves, the many-run table sorted
 * by any column (a button in each heading; `aria-sort` says the order) and
 * the parallel-coordinates view of the same table (parallel-coordinates.js).
 */
import { createCharts } from './charts.js';
import { createRegionRefresher } from './live-regions.js';
import { drawParallelCoordinates } from './parallel-coordinates.js';

function sortable(table) {
  const body = table.querySelector('tbody');
  let key = null;
  let ascending = true;
  const valueOf = (row) => {
    const cell =
      key === 'run'
        ? row.querySelector('td[data-value]')
        : [...row.querySelectorAll('td[data-key]')].find(
            (item) => item.getAttribute('data-key') === key,
          );
    const text = cell ? cell.getAttribute('data-value') : '';
    if (text === '' || text === null) return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  table.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-sort]');
    if (!button) return;
    const chosen = button.getAttribute('data-sort');
    ascending = chosen === key ? !ascending : true;
    key = chosen;
    const rows = [...body.querySelectorAll('tr')];
    rows.sort((a, b) => {
      const x = valueOf(a);
      const y = valueOf(b);
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      const order =
        typeof x === 'number' && typeof y === 'number'
          ? x - y
          : String(x).localeCompare(String(y), undefined, { numeric: true });
      return ascending ? order : -order;
    });
    body.append(...rows);
    for (const heading of table.querySelectorAll('th[aria-sort]'))
      heading.setAttribute('aria-sort', 'none');
    button
      .closest('th')
      .setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
  });
}

function draw() {
  for (const root of document.querySelectorAll('[data-charts]'))
    createCharts(root);
  const table = document.querySelector('table[data-sortable]');
  if (table) sortable(table);
  const target = document.getElementById('parcoords');
  const source = document.getElementById('run-table-data');
  if (target && source)
    drawParallelCoordinates(target, JSON.parse(source.textContent));
}

/** Runs still going: their changes re-read the comparison. */
function follow() {
  const region = document.getElementById('compare-region');
  const runs = region ? region.getAttribute('data-live-compare') : '';
  if (!runs) return;
  const refresher = createRegionRefresher({
    url: () => location.pathname + location.search,
  });
  const source = new EventSource(
    `/api/events?${new URLSearchParams({ runs }).toString()}`,
  );
  source.addEventListener('open', () =>
    region.setAttribute('data-connected', 'true'),
  );
  const ids = runs.split(',');
  const changed = (event) => {
    const data = JSON.parse(event.data);
    // The status changes of every run come too: only these matter here.
    if (ids.includes(data.runId)) refresher.schedule(300);
  };
  for (const kind of ['run', 'node', 'nodes'])
    source.addEventListener(kind, changed);
  document.addEventListener('kiln:regions', () => {
    draw();
    const now = document.getElementById('compare-region');
    if (now && !now.getAttribute('data-live-compare')) source.close();
  });
}

export function start() {
  draw();
  follow();
}
