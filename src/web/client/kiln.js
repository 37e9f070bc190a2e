/**
 * kiln's browser entry point (an ES module): what every page shares —
 * local times, durations that tick while something runs, the action
 * buttons (cancel, approve, re-run), which call the JSON API — then the
 * module of the page (`<body data-page>`). No framework.
 */
import { post } from './api.js';

const pages = {
  run: () => import('./run-page.js'),
  execution: () => import('./execution-page.js'),
  runs: () => import('./runs-page.js'),
  compare: () => import('./compare-page.js'),
  launch: () => import('./launch-page.js'),
  task: () => import('./task-page.js'),
};

export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) return `${minutes}m${String(rest).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function tick() {
  for (const element of document.querySelectorAll('[data-since]')) {
    const since = Date.parse(element.getAttribute('data-since'));
    if (Number.isFinite(since))
      element.textContent = formatDuration(Date.now() - since);
  }
}

function localTimes() {
  const format = new Intl.DateTimeFormat(undefined, {
    dateStyle: 'medium',
    timeStyle: 'medium',
  });
  for (const element of document.querySelectorAll('time[datetime]')) {
    if (element.hasAttribute('data-local')) continue;
    const at = Date.parse(element.getAttribute('datetime'));
    if (!Number.isFinite(at)) continue;
    element.setAttribute('data-local', '');
    element.title = element.textContent;
    element.textContent = format.format(new Date(at));
  }
}

/**
 * A table wider than the screen scrolls in its box; a box with nothing to
 * focus inside gets a tab stop so a keyboard can scroll it too.
 */
function scrollableBoxes() {
  for (const box of document.querySelectorAll('.scroll')) {
    if (box.scrollWidth <= box.clientWidth + 1) continue;
    if (box.hasAttribute('tabindex')) continue;
    if (box.querySelector('a[href], button, input, select, [tabindex]'))
      continue;
    box.setAttribute('tabindex', '0');
    box.setAttribute('role', 'region');
    const heading = box.closest('section')?.querySelector('h2, h3');
    box.setAttribute(
      'aria-label',
      heading ? heading.textContent.trim() : 'table',
    );
  }
}

function bindActions() {
  document.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const status = document.getElementById('action-status');
    button.disabled = true;
    let body = {};
    try {
      body = JSON.parse(button.getAttribute('data-body') || '{}');
    } catch {
      body = {};
    }
    post(button.getAttribute('data-action'), body).then(
      (run) => {
        if (run && run.id && !location.pathname.endsWith(`/${run.id}`)) {
          location.href = `/runs/${encodeURIComponent(run.id)}`;
        } else {
          button.disabled = false;
        }
      },
      (error) => {
        button.disabled = false;
        if (status) status.textContent = error.message;
      },
    );
  });
}

localTimes();
scrollableBoxes();
document.addEventListener('kiln:regions', () => {
  localTimes();
  scrollableBoxes();
});
window.addEventListener('resize', scrollableBoxes);
setInterval(tick, 1000);
bindActions();
const load = pages[document.body.getAttribute('data-page')];
if (load) {
  load().then((module) => module.start());
}
