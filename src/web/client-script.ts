/**
 * kiln's only browser script (served as /static/kiln.js): live logs over
 * Server-Sent Events, uPlot charts from the JSON the page embeds, and the
 * action buttons and launch form, which call the JSON API. No framework.
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
