/**
 * Live regions: a page marks what changes with `data-region` (and an id);
 * when the server says something changed, the page asks for the same URL
 * with `?regions=1` and swaps each region for its new version. One
 * rendering path — the server's — for the first paint and every update.
 * Refreshes are coalesced: at most one in flight, one more queued.
 */
export function createRegionRefresher(options) {
  const { url, onRefreshed } = options;
  let running = false;
  let again = false;
  let timer;

  async function refresh() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const target = new URL(url(), location.href);
      target.searchParams.set('regions', '1');
      const response = await fetch(target, { credentials: 'same-origin' });
      if (response.ok) {
        const doc = new DOMParser().parseFromString(
          await response.text(),
          'text/html',
        );
        swapRegions(doc);
        if (onRefreshed) onRefreshed();
      }
    } catch {
      // The next change tries again.
    } finally {
      running = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  }

  return {
    /** Refresh soon (changes arriving together make one refresh). */
    schedule(delay = 150) {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void refresh();
      }, delay);
    },
    /** Refresh now (a run's end must show within a second). */
    now() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      return refresh();
    },
  };
}

function swapRegions(doc) {
  for (const fresh of doc.querySelectorAll('[data-region]')) {
    const current = fresh.id ? document.getElementById(fresh.id) : null;
    if (!current) continue;
    const checked = [
      ...current.querySelectorAll('input[type=checkbox]:checked'),
    ].map((input) => `${input.name}\n${input.value}`);
    const active = document.activeElement;
    const keep =
      active && current.contains(active) && active.id ? active.id : null;
    const next = document.importNode(fresh, true);
    for (const input of next.querySelectorAll('input[type=checkbox]')) {
      if (checked.includes(`${input.name}\n${input.value}`))
        input.checked = true;
    }
    current.replaceWith(next);
    if (keep) document.getElementById(keep)?.focus();
  }
  document.dispatchEvent(new Event('kiln:regions'));
}
