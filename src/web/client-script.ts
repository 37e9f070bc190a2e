/**
 * kiln's only browser script (served as /static/kiln.js): live pages over
 * Server-Sent Events (a run's states and logs, the runs list's states —
 * from the run event streams, resumed after a reconnect by Last-Event-ID),
 * uPlot charts from the JSON the page embeds, and the action buttons and
 * launch form, which call the JSON API. No framework.
 */
export const CLIENT_SCRIPT = String.raw`'use strict';
(function () {
  window.kilnCharts = {};

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || response.statusText);
        return data;
      });
    });
  }

  function followLogs(pre) {
    var id = pre.getAttribute('data-log');
    var after = pre.getAttribute('data-after') || '-1';
    var source = new EventSource('/api/executions/' + encodeURIComponent(id) + '/logs/stream?after=' + encodeURIComponent(after));
    source.addEventListener('line', function (event) {
      var line = JSON.parse(event.data);
      var span = document.createElement('span');
      span.className = line.stream;
      span.textContent = line.text + '\n';
      pre.appendChild(span);
      pre.setAttribute('data-after', String(line.seq));
      // Keep the tail bounded in the page.
      while (pre.childNodes.length > 2000) pre.removeChild(pre.firstChild);
      pre.scrollTop = pre.scrollHeight;
    });
    source.addEventListener('end', function () {
      source.close();
      pre.setAttribute('data-ended', 'true');
    });
  }

  var TERMINAL = ['complete', 'error', 'stopped', 'cancelled'];

  function setStatus(element, status) {
    if (!element) return;
    element.className = element.className.replace(/status-[a-z-]+/, 'status-' + status);
    element.textContent = status;
  }

  function setNodeStatus(name, status) {
    document.querySelectorAll('g.dag-node').forEach(function (group) {
      if (group.getAttribute('data-node') !== name) return;
      group.setAttribute('data-status', status);
      var texts = group.querySelectorAll('text');
      if (texts.length > 1) texts[texts.length - 1].textContent = status;
      var title = group.querySelector('title');
      if (title) title.textContent = name + ': ' + status;
    });
  }

  // A node that starts running on another attempt gets a section with its
  // live log; the rest of its record shows on the next load.
  function ensureExecution(event) {
    if (!event.executionId || document.getElementById('execution-' + event.executionId)) return;
    if (event.status !== 'started' || event.phase !== 'running') return;
    // A task's children are on the task's page, not here.
    var live = document.getElementById('run-live');
    var tasks = JSON.parse((live && live.getAttribute('data-tasks')) || '[]');
    if (tasks.some(function (task) { return event.node.indexOf(task + '#') === 0; })) return;
    var section = document.createElement('section');
    section.className = 'execution';
    section.id = 'execution-' + event.executionId;
    section.setAttribute('data-execution', event.executionId);
    section.setAttribute('data-node', event.node);
    var title = document.createElement('h2');
    title.textContent = event.node + ' ';
    var badge = document.createElement('span');
    badge.className = 'status status-started';
    badge.setAttribute('data-execution-status', '');
    badge.textContent = 'started';
    title.appendChild(badge);
    var small = document.createElement('small');
    small.textContent = ' attempt ' + event.attempt + ' · ' + event.executionId;
    title.appendChild(small);
    var pre = document.createElement('pre');
    pre.className = 'log';
    pre.setAttribute('data-log', event.executionId);
    pre.setAttribute('data-after', '-1');
    section.appendChild(title);
    section.appendChild(pre);
    document.querySelector('main').appendChild(section);
    followLogs(pre);
  }

  function setExecutionStatus(node, status, executionId) {
    document.querySelectorAll('section.execution').forEach(function (section) {
      if (section.getAttribute('data-node') !== node) return;
      if (executionId && section.getAttribute('data-execution') !== executionId) return;
      var badge = section.querySelector('[data-execution-status]');
      if (!badge || TERMINAL.concat(['reused', 'skipped']).indexOf(badge.textContent) >= 0) return;
      setStatus(badge, status === 'queued' ? 'error' : status);
    });
  }

  function followRun(live) {
    if (live.getAttribute('data-active') !== 'true') return;
    var id = live.getAttribute('data-run');
    var source = new EventSource('/api/runs/' + encodeURIComponent(id) + '/events?after=' + encodeURIComponent(live.getAttribute('data-after') || '0'));
    function onNode(event) {
      var data = JSON.parse(event.data);
      var names = data.kind === 'nodes' ? data.nodes : [data.node];
      names.forEach(function (name) {
        setNodeStatus(name, data.status);
        if (data.status !== 'started' && data.status !== 'pending') setExecutionStatus(name, data.status, data.executionId);
      });
      if (data.kind === 'node') ensureExecution(data);
    }
    source.addEventListener('node', onNode);
    source.addEventListener('nodes', onNode);
    source.addEventListener('run', function (event) {
      var data = JSON.parse(event.data);
      setStatus(document.getElementById('run-status'), data.status);
      var reason = document.getElementById('run-reason');
      if (reason) reason.textContent = data.reason || '';
      if (TERMINAL.indexOf(data.status) >= 0) {
        live.setAttribute('data-active', 'false');
        document.querySelectorAll('button[data-action$="/cancel"], button[data-action$="/approve"]').forEach(function (button) {
          button.remove();
        });
      }
    });
    source.addEventListener('end', function () {
      source.close();
      live.setAttribute('data-ended', 'true');
    });
  }

  // The runs list: states change in place; a new run (first page, no
  // filter) is added on top.
  function followRuns(table) {
    var source = new EventSource('/api/events?after=' + encodeURIComponent(table.getAttribute('data-after') || '$'));
    source.addEventListener('run', function (event) {
      var data = JSON.parse(event.data);
      var row = table.querySelector('tr[data-run="' + CSS.escape(data.runId) + '"]');
      if (row) {
        setStatus(row.querySelector('[data-run-status]'), data.status);
        return;
      }
      if (table.getAttribute('data-first-page') !== 'true') return;
      row = document.createElement('tr');
      row.setAttribute('data-run', data.runId);
      var cells = [data.repository, data.ref || '', '', data.name, '', '', data.at];
      var link = document.createElement('a');
      link.href = '/runs/' + encodeURIComponent(data.runId);
      link.textContent = '#' + data.counter;
      var first = document.createElement('td');
      first.appendChild(link);
      row.appendChild(first);
      cells.forEach(function (text, index) {
        var cell = document.createElement('td');
        if (index === 4) {
          var badge = document.createElement('span');
          badge.className = 'status status-' + data.status;
          badge.setAttribute('data-run-status', '');
          badge.textContent = data.status;
          cell.appendChild(badge);
        } else {
          cell.textContent = text;
        }
        row.appendChild(cell);
      });
      var body = table.querySelector('tbody');
      body.insertBefore(row, body.firstChild);
    });
  }

  function drawChart(element) {
    var data = JSON.parse(document.getElementById(element.getAttribute('data-source')).textContent);
    if (typeof uPlot === 'undefined' || data.series.length === 0) return;
    var xs = [];
    var seen = {};
    data.series.forEach(function (series) {
      series.points.forEach(function (point) {
        if (!seen[point[0]]) { seen[point[0]] = true; xs.push(point[0]); }
      });
    });
    xs.sort(function (a, b) { return a - b; });
    var columns = [xs];
    data.series.forEach(function (series) {
      var byX = {};
      series.points.forEach(function (point) { byX[point[0]] = point[1]; });
      columns.push(xs.map(function (x) { return x in byX ? byX[x] : null; }));
    });
    var colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
    var chart = new uPlot({
      title: data.title,
      width: Math.max(300, Math.min(700, element.clientWidth || 600)),
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: data.xLabel || 'event' }, {}],
      series: [{ label: data.xLabel || 'event' }].concat(data.series.map(function (series, index) {
        return { label: series.label, stroke: colors[index % colors.length], spanGaps: true, points: { show: true } };
      })),
    }, columns, element);
    window.kilnCharts[element.getAttribute('data-chart')] = chart;
  }

  function bindAction(button) {
    button.addEventListener('click', function () {
      var status = document.getElementById('action-status');
      button.disabled = true;
      post(button.getAttribute('data-action'), {}).then(function (run) {
        window.location.href = '/runs/' + encodeURIComponent(run.id);
      }, function (error) {
        button.disabled = false;
        if (status) status.textContent = error.message;
      });
    });
  }

  function bindLaunch(form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var parameters = {};
      Array.prototype.forEach.call(form.querySelectorAll('[data-param]'), function (input) {
        var name = input.getAttribute('data-param');
        if (input.type === 'checkbox') {
          if (input.checked !== input.defaultChecked) parameters[name] = input.checked;
          return;
        }
        if (input.value === '') return;
        if (input.value === input.getAttribute('data-default')) return;
        parameters[name] = input.value;
      });
      var body = { repository: form.elements.repository.value, name: form.elements.name.value, parameters: parameters };
      var at = form.elements.at.value;
      if (/^[0-9a-f]{40}$/.test(at)) body.commit = at; else body.ref = at;
      var error = document.getElementById('launch-error');
      post('/api/runs', body).then(function (run) {
        window.location.href = '/runs/' + encodeURIComponent(run.id);
      }, function (failure) {
        error.textContent = failure.message;
      });
    });
  }

  document.querySelectorAll('pre[data-log]').forEach(followLogs);
  var live = document.getElementById('run-live');
  if (live) followRun(live);
  document.querySelectorAll('table[data-live-runs]').forEach(followRuns);
  document.querySelectorAll('[data-chart]').forEach(drawChart);
  document.querySelectorAll('button[data-action]').forEach(bindAction);
  var launch = document.getElementById('launch');
  if (launch) bindLaunch(launch);
})();
`;

export const STYLESHEET = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #111; }
header nav { display: flex; gap: 1em; padding: .6em 1em; background: #1f2937; align-items: center; }
header a { color: #e5e7eb; text-decoration: none; }
header button { color: #e5e7eb; background: none; border: 1px solid #6b7280; border-radius: 3px; cursor: pointer; }
.brand { font-weight: bold; color: #fbbf24 !important; }
.user { margin-left: auto; color: #9ca3af; }
main { padding: 1em 1.5em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border-bottom: 1px solid #e5e7eb; padding: .25em .6em; text-align: left; vertical-align: top; }
code, pre { font-family: ui-monospace, monospace; font-size: 12px; }
pre.log { background: #111827; color: #e5e7eb; padding: .6em; max-height: 360px; overflow: auto; white-space: pre-wrap; }
pre.log .stderr { color: #fca5a5; }
.status { padding: 0 .4em; border-radius: 3px; background: #e5e7eb; }
.status-complete { background: #bbf7d0; } .status-error { background: #fecaca; }
.status-running, .status-started { background: #bfdbfe; } .status-cancelled, .status-stopped { background: #fde68a; }
.diff { background: #fef3c7; font-weight: bold; }
.inline { display: inline; } .error { color: #b91c1c; }
section.execution { border: 1px solid #e5e7eb; padding: .5em 1em; margin: 1em 0; }
form.filters input, form.filters select { margin-right: .5em; }
`;
