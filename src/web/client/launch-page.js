/**
 * The launch form: the commands the launch would run, previewed as values
 * change (`POST /api/runs/preview`: the server's own plan), and the
 * launch itself (`POST /api/runs`), which opens the new run's page.
 */
import { post } from './api.js';

function readForm(form) {
  const parameters = {};
  for (const input of form.querySelectorAll('[data-param]')) {
    const name = input.getAttribute('data-param');
    const fallback = input.getAttribute('data-default') ?? '';
    if (input.type === 'checkbox') {
      if (input.checked !== (fallback === 'True' || fallback === 'true'))
        parameters[name] = input.checked;
      continue;
    }
    if (input.value === '' || input.value === fallback) continue;
    parameters[name] = input.value;
  }
  const body = {
    repository: form.elements.repository.value,
    name: form.elements.name.value,
    parameters,
  };
  const at = form.elements.at.value;
  if (/^[0-9a-f]{40}$/.test(at)) body.commit = at;
  else body.ref = at;
  return body;
}

export function start() {
  const form = document.getElementById('launch');
  if (!form) return;
  const preview = document.getElementById('launch-preview');
  const error = document.getElementById('launch-error');
  let timer;
  let asked = 0;
  const refresh = () => {
    const ticket = (asked += 1);
    post('/api/runs/preview', readForm(form)).then(
      (result) => {
        if (ticket !== asked) return;
        const lines = [];
        for (const node of result.plan.nodes) {
          lines.push(
            `# ${node.name}${node.image ? ` (${node.image})` : ''}${node.note ? ` — ${node.note}` : ''}`,
          );
          for (const command of node.commands || []) lines.push(command);
        }
        for (const problem of result.plan.errors || [])
          lines.push(`! ${problem}`);
        preview.textContent = lines.join('\n');
        error.textContent = '';
      },
      (failure) => {
        if (ticket !== asked) return;
        preview.textContent = `(no preview: ${failure.message})`;
      },
    );
  };
  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    post('/api/runs', readForm(form)).then(
      (run) => {
        location.href = `/runs/${encodeURIComponent(run.id)}`;
      },
      (failure) => {
        if (button) button.disabled = false;
        error.textContent = failure.message;
      },
    );
  });
}
