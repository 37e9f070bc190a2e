/**
 * The runs list, live: the list's rows are re-read from the server
 * (same filters and page) whenever a run changes — the status changes of
 * every run, and the step changes of the runs shown, come on one
 * Server-Sent Events stream. A new run shows on the first page by itself.
 */
import { createRegionRefresher } from './live-regions.js';

export function start() {
  const list = document.querySelector('[data-live-runs]');
  if (!list) return;
  let after = list.getAttribute('data-after') || '$';
  let source = null;
  let shown = '';
  const refresher = createRegionRefresher({
    url: () => location.pathname + location.search,
    onRefreshed: connect,
  });

  function ids() {
    return list.querySelector('tbody')?.getAttribute('data-run-ids') || '';
  }

  /** (Re)connects when the shown runs change: their step changes come too. */
  function connect() {
    const current = ids();
    if (source && current === shown) return;
    if (source) source.close();
    shown = current;
    const query = new URLSearchParams({ after });
    if (current) query.set('runs', current);
    source = new EventSource(`/api/events?${query.toString()}`);
    source.addEventListener('open', () =>
      list.setAttribute('data-connected', 'true'),
    );
    source.addEventListener('run', (event) => {
      if (event.lastEventId) after = event.lastEventId;
      refresher.schedule(100);
    });
    // Steps change often in big runs: their strips refresh at most each second.
    const onNode = () => refresher.schedule(1000);
    source.addEventListener('node', onNode);
    source.addEventListener('nodes', onNode);
  }
  connect();
}
