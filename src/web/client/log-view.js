/**
 * The log viewer (execution page): opens on the newest lines the server
 * rendered; pages back through the store as you scroll up (or all at once
 * with Top, so a 20,000-line log is reachable to its first line); follows
 * new lines over Server-Sent Events; searches the whole log (loading what
 * is not there yet); shows each line's time on demand; folds
 * `::group::` … `::endgroup::`; links each line (`#L<seq>`). Lines are
 * drawn exactly as the server draws them (log-line.js).
 */
import {
  groupMarker,
  parseAnsi,
  plainText,
  segmentPresentation,
} from './log-line.js';

const PAGE = 2000;

/** One line's element, as the server renders it (render-parts.ts). */
export function lineElement(id, line, title) {
  const row = document.createElement('div');
  row.className = `log-line ${line.stream}`;
  row.setAttribute('data-seq', String(line.seq));
  row.id = `L${id}-${line.seq}`;
  const number = document.createElement('a');
  number.className = 'no';
  number.href = `/executions/${encodeURIComponent(id)}#L${line.seq}`;
  number.tabIndex = -1;
  number.textContent = String(line.seq + 1);
  const time = document.createElement('span');
  time.className = 'ts';
  time.textContent = line.time.slice(11, 23);
  const text = document.createElement('span');
  text.className = 'tx';
  const segments =
    title === undefined ? parseAnsi(line.text) : [{ text: title }];
  for (const segment of segments) {
    const { className, style } = segmentPresentation(segment);
    if (!className && !style) {
      text.appendChild(document.createTextNode(segment.text));
      continue;
    }
    const span = document.createElement('span');
    if (className) span.className = className;
    if (style) span.setAttribute('style', style);
    span.textContent = segment.text;
    text.appendChild(span);
  }
  row.append(number, time, text);
  return row;
}

export function createLogView(root) {
  const id = root.getAttribute('data-log-view');
  const box = root.querySelector('[data-log-lines]');
  const beforeNote = root.querySelector('[data-log-before]');
  const range = root.querySelector('[data-log-range]');
  const search = root.querySelector('[data-log-search]');
  const count = root.querySelector('[data-log-count]');
  const follow = root.querySelector('[data-log-follow]');
  let first = Number(root.getAttribute('data-first'));
  let last = Number(root.getAttribute('data-last'));
  let hasBefore = root.getAttribute('data-has-before') === 'true';
  let loading = null;
  let openGroup = null;
  let hits = [];
  let current = -1;

  /** Lines as nodes, with groups folded (a group open at the end stays open for more). */
  function build(lines, state) {
    const fragment = document.createDocumentFragment();
    for (const line of lines) {
      const marker = groupMarker(line.text);
      if (marker && marker.kind === 'start') {
        const details = document.createElement('details');
        details.className = 'log-group';
        const summary = document.createElement('summary');
        summary.appendChild(lineElement(id, line, marker.title));
        details.appendChild(summary);
        fragment.appendChild(details);
        state.group = details;
        continue;
      }
      if (marker && marker.kind === 'end') {
        state.group = null;
        continue;
      }
      (state.group || fragment).appendChild(lineElement(id, line));
    }
    return fragment;
  }

  function updateRange() {
    if (beforeNote) beforeNote.hidden = !hasBefore;
    if (range) range.textContent = `showing from line ${first + 1}`;
    root.setAttribute('data-first', String(first));
    root.setAttribute('data-has-before', hasBefore ? 'true' : 'false');
  }

  async function fetchPage(query) {
    const response = await fetch(
      `/api/executions/${encodeURIComponent(id)}/logs?${query}`,
      {
        credentials: 'same-origin',
      },
    );
    if (!response.ok) throw new Error(`log page: ${response.status}`);
    return response.json();
  }

  /** One page before the first shown line; resolves whether lines came. */
  function loadEarlier(limit = PAGE) {
    if (loading) return loading;
    if (!hasBefore) return Promise.resolve(false);
    loading = (async () => {
      const page = await fetchPage(`before=${first}&limit=${limit}`);
      const lines = page.lines.filter((line) => line.seq < first);
      if (lines.length === 0) {
        hasBefore = false;
        updateRange();
        return false;
      }
      const height = box.scrollHeight;
      const top = box.scrollTop;
      box.insertBefore(build(lines, { group: null }), box.firstChild);
      box.scrollTop = top + (box.scrollHeight - height);
      first = lines[0].seq;
      hasBefore = page.hasBefore;
      updateRange();
      return true;
    })().finally(() => {
      loading = null;
    });
    return loading;
  }

  async function loadAll() {
    // The API's largest page: fewer round trips and redraws.
    while (hasBefore) {
      if (!(await loadEarlier(10_000))) break;
    }
  }

  function append(lines) {
    const fresh = lines.filter((line) => line.seq > last);
    if (fresh.length === 0) return;
    const empty = box.querySelector('[data-log-empty]');
    if (empty) empty.remove();
    const state = { group: openGroup };
    box.appendChild(build(fresh, state));
    openGroup = state.group;
    last = fresh[fresh.length - 1].seq;
    root.setAttribute('data-last', String(last));
    if (follow && follow.checked) box.scrollTop = box.scrollHeight;
    if (search && search.value) runSearch(false);
  }

  function followStream() {
    if (root.getAttribute('data-ended') === 'true') return;
    const stream = new EventSource(
      `/api/executions/${encodeURIComponent(id)}/logs/stream?after=${encodeURIComponent(String(last))}`,
    );
    stream.addEventListener('line', (event) =>
      append([JSON.parse(event.data)]),
    );
    stream.addEventListener('end', () => {
      stream.close();
      root.setAttribute('data-ended', 'true');
      if (follow) follow.checked = false;
    });
  }

  function lineText(row) {
    const text = row.querySelector('.tx');
    return text ? text.textContent : '';
  }

  async function runSearch(jump = true) {
    const query = search.value.trim().toLowerCase();
    for (const row of box.querySelectorAll('.hit'))
      row.classList.remove('hit', 'hit-current');
    hits = [];
    current = -1;
    if (!query) {
      count.textContent = '';
      return;
    }
    if (hasBefore) {
      count.textContent = 'loading the whole log…';
      await loadAll();
    }
    hits = [...box.querySelectorAll('.log-line')].filter((row) =>
      lineText(row).toLowerCase().includes(query),
    );
    for (const row of hits) row.classList.add('hit');
    count.textContent =
      hits.length === 0 ? 'no match' : `${hits.length} matches`;
    if (jump && hits.length > 0) move(1);
  }

  function reveal(row) {
    for (
      let node = row.parentElement;
      node && node !== box;
      node = node.parentElement
    ) {
      if (node.tagName === 'DETAILS') node.open = true;
    }
    row.scrollIntoView({ block: 'center' });
  }

  function move(step) {
    if (hits.length === 0) return;
    if (current >= 0) hits[current].classList.remove('hit-current');
    current = (current + step + hits.length) % hits.length;
    const row = hits[current];
    row.classList.add('hit-current');
    count.textContent = `${current + 1} of ${hits.length}`;
    reveal(row);
  }

  async function showLine(seq) {
    while (seq < first && hasBefore) {
      if (!(await loadEarlier())) break;
    }
    const row = document.getElementById(`L${id}-${seq}`);
    if (!row) return;
    for (const other of box.querySelectorAll('.target'))
      other.classList.remove('target');
    row.classList.add('target');
    reveal(row);
  }

  // Wiring.
  root
    .querySelector('[data-log-earlier]')
    ?.addEventListener('click', () => void loadEarlier(PAGE));
  root.querySelector('[data-log-top]')?.addEventListener('click', async () => {
    await loadAll();
    box.scrollTop = 0;
  });
  root
    .querySelector('[data-log-times]')
    ?.addEventListener('change', (event) => {
      root.classList.toggle('with-time', event.target.checked);
    });
  let debounce;
  search?.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void runSearch(true), 250);
  });
  search?.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    move(event.shiftKey ? -1 : 1);
  });
  root
    .querySelector('[data-log-next]')
    ?.addEventListener('click', () => move(1));
  root
    .querySelector('[data-log-prev]')
    ?.addEventListener('click', () => move(-1));
  box.addEventListener('scroll', () => {
    if (box.scrollTop < 40 && hasBefore && !loading) void loadEarlier();
    if (
      follow &&
      box.scrollTop + box.clientHeight < box.scrollHeight - 30 &&
      root.getAttribute('data-ended') !== 'true'
    ) {
      follow.checked = false;
    }
  });
  follow?.addEventListener('change', () => {
    if (follow.checked) box.scrollTop = box.scrollHeight;
  });
  const target = /^#L(\d+)$/.exec(location.hash);
  if (target) void showLine(Number(target[1]));
  else box.scrollTop = box.scrollHeight;
  window.addEventListener('hashchange', () => {
    const line = /^#L(\d+)$/.exec(location.hash);
    if (line) void showLine(Number(line[1]));
  });
  updateRange();
  followStream();
  return { loadEarlier, loadAll, showLine, plainText };
}
