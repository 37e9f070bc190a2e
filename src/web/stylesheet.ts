/**
 * kiln's stylesheet (served as /static/kiln.css). Colours meet WCAG AA
 * contrast for text (4.5:1); wide content (tables, logs, the graph) scrolls
 * inside its own box so no page scrolls sideways, down to 390 px.
 */
export const STYLESHEET = `
:root {
  --fg: #111827; --muted: #4b5563; --line: #d1d5db; --soft: #f3f4f6; --bg: #ffffff;
  --accent: #1d4ed8; --accent-soft: #dbeafe; --ok: #166534; --ok-soft: #dcfce7;
  --bad: #991b1b; --bad-soft: #fee2e2; --warn: #854d0e; --warn-soft: #fef9c3;
  --run: #1e40af; --run-soft: #dbeafe; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px;
}
.skip { position: absolute; left: -9999px; top: 0; background: #fff; padding: .5em 1em; z-index: 10; }
.skip:focus { left: .5em; }
header.top { background: #111827; color: #f9fafb; }
header.top nav { display: flex; flex-wrap: wrap; gap: .2em 1em; padding: .55em 1em; align-items: center; max-width: 1400px; margin: 0 auto; }
header.top a { color: #f9fafb; text-decoration: none; padding: .15em 0; }
header.top a:hover, header.top a[aria-current="page"] { text-decoration: underline; text-underline-offset: 4px; }
header.top .brand { font-weight: 700; color: #fcd34d; margin-right: .4em; }
header.top .user { margin-left: auto; color: #d1d5db; display: flex; gap: .5em; align-items: center; }
header.top button { color: #f9fafb; background: none; border: 1px solid #9ca3af; border-radius: 4px; cursor: pointer; font: inherit; padding: .1em .5em; }
main { padding: 1em 1.25em 3em; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 1.45em; margin: .2em 0 .3em; display: flex; flex-wrap: wrap; align-items: center; gap: .4em; overflow-wrap: anywhere; }
h2 { font-size: 1.15em; margin: 1.4em 0 .5em; }
h3 { font-size: 1em; margin: 1em 0 .4em; }
p { margin: .4em 0; }
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
code { overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; margin: .3em 0 1em; }
th, td { border-bottom: 1px solid var(--line); padding: .3em .6em; text-align: left; vertical-align: top; }
thead th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { display: inline-block; padding: 0 .45em; border-radius: 999px; background: var(--soft); color: var(--fg); font-size: 12.5px; font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
.status-complete, .status-reused { background: var(--ok-soft); color: var(--ok); border-color: #86efac; }
.status-error { background: var(--bad-soft); color: var(--bad); border-color: #fca5a5; }
.status-running, .status-started, .status-queued, .status-created { background: var(--run-soft); color: var(--run); border-color: #93c5fd; }
.status-cancelled, .status-stopped, .status-waiting-approval { background: var(--warn-soft); color: var(--warn); border-color: #fde047; }
.status-skipped, .status-pending { background: var(--soft); color: var(--muted); border-color: var(--line); }
.meta { display: flex; flex-wrap: wrap; gap: .2em 1.2em; color: var(--muted); margin: .2em 0 .8em; }
.meta > * { overflow-wrap: anywhere; }
.meta b { color: var(--fg); font-weight: 600; }
.actions { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; margin: .6em 0; }
button, .button { font: inherit; padding: .35em .8em; border-radius: 6px; border: 1px solid #6b7280; background: #fff; color: var(--fg); cursor: pointer; text-decoration: none; display: inline-block; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { border-color: var(--bad); color: var(--bad); }
button:disabled { opacity: .6; cursor: default; }
.error { color: var(--bad); }
.panel { border: 1px solid var(--line); border-radius: 8px; padding: .7em 1em; margin: .8em 0; background: #fff; }
.panel > h2:first-child, .panel > h3:first-child { margin-top: 0; }
.panel.failure { border-color: #f87171; border-left: 6px solid #dc2626; background: #fffafa; }
.panel.running { border-left: 6px solid #2563eb; }
.panel.success { border-left: 6px solid #16a34a; }
.panel.waiting { border-left: 6px solid #ca8a04; }
.panel .headline { font-weight: 600; font-size: 1.05em; overflow-wrap: anywhere; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 0 1.5em; }
.strip { display: inline-flex; gap: 2px; vertical-align: middle; flex-wrap: wrap; max-width: 220px; }
.strip i { display: inline-block; width: 10px; height: 14px; border-radius: 2px; background: #9ca3af; }
.strip i.s-complete, .strip i.s-reused { background: #16a34a; } .strip i.s-error { background: #dc2626; }
.strip i.s-started { background: #2563eb; } .strip i.s-queued { background: #93c5fd; }
.strip i.s-stopped { background: #ca8a04; } .strip i.s-skipped, .strip i.s-pending { background: #d1d5db; }
form.filters { display: flex; flex-wrap: wrap; gap: .5em; align-items: flex-end; margin: .4em 0 .8em; }
form.filters label, .field { display: flex; flex-direction: column; font-size: 12.5px; color: var(--muted); gap: .15em; }
input, select { font: inherit; padding: .3em .45em; border: 1px solid #6b7280; border-radius: 5px; max-width: 100%; background: #fff; color: var(--fg); }
.pager { display: flex; gap: 1em; align-items: center; }
svg.dag { display: block; }
svg.dag rect { fill: #e5e7eb; }
svg.dag g[data-status="queued"] rect { fill: #e0e7ff; } svg.dag g[data-status="started"] rect { fill: #bfdbfe; }
svg.dag g[data-status="complete"] rect { fill: #bbf7d0; } svg.dag g[data-status="reused"] rect { fill: #d9f99d; }
svg.dag g[data-status="error"] rect { fill: #fecaca; } svg.dag g[data-status="stopped"] rect { fill: #fde68a; }
svg.dag g[data-status="skipped"] rect { fill: #f3f4f6; }
svg.dag a:focus rect, svg.dag a:hover rect { stroke: #f59e0b; stroke-width: 3; }
svg.dag text { font-family: system-ui, sans-serif; }
.legend { font-size: 12px; color: var(--muted); }
.log { background: #0d1117; color: #e6edf3; border-radius: 6px; font-family: var(--mono); font-size: 12.5px; line-height: 1.5; }
.log-lines { max-height: 70vh; overflow: auto; padding: .4em 0; }
.log-lines.short { max-height: 22em; }
/* Opens scrolled to its end (the error), with or without the script. */
.log-lines.tail { display: flex; flex-direction: column-reverse; max-height: 17em; }
.log-line { display: flex; white-space: pre-wrap; overflow-wrap: anywhere; padding: 0 .8em 0 0; min-height: 1.5em; }
.log-line:hover { background: #161b22; }
.log-line .no { color: #8b949e; min-width: 4.5em; text-align: right; padding: 0 .8em 0 .4em; user-select: none; flex: none; text-decoration: none; }
.log-line .ts { color: #8b949e; padding-right: .8em; flex: none; display: none; }
.log.with-time .log-line .ts { display: inline; }
.log-line .tx { flex: 1 1 auto; min-width: 0; }
.log-line.stderr .tx { color: #ffa198; }
.log-line.hit { background: #3b2e00; } .log-line.hit-current { background: #6e5200; }
.log-line.target { background: #1f3b63; }
.log-group > summary { list-style: none; cursor: pointer; display: flex; padding-right: .8em; color: #e6edf3; }
.log-group > summary::-webkit-details-marker { display: none; }
.log-group > summary .tx::before { content: "▸ "; color: #8b949e; }
.log-group[open] > summary .tx::before { content: "▾ "; }
.log-bar { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; padding: .5em .7em; border-bottom: 1px solid #30363d; color: #e6edf3; }
.log-bar input[type=search] { background: #0d1117; color: #e6edf3; border-color: #8b949e; min-width: 0; width: 14em; }
.log-bar button, .log-bar .button { background: #21262d; color: #e6edf3; border-color: #8b949e; padding: .2em .6em; font-size: 12.5px; }
.log-bar label { display: inline-flex; gap: .3em; align-items: center; font-size: 12.5px; }
.log-bar .count { color: #c9d1d9; font-size: 12.5px; }
.log-note { color: #c9d1d9; padding: .2em .8em; font-size: 12.5px; }
.ansi-bold { font-weight: 700; } .ansi-dim { opacity: .7; } .ansi-italic { font-style: italic; } .ansi-underline { text-decoration: underline; }
.ansi-fg-0 { color: #6e7681; } .ansi-fg-1 { color: #ff7b72; } .ansi-fg-2 { color: #3fb950; } .ansi-fg-3 { color: #d29922; }
.ansi-fg-4 { color: #58a6ff; } .ansi-fg-5 { color: #bc8cff; } .ansi-fg-6 { color: #39c5cf; } .ansi-fg-7 { color: #e6edf3; }
.ansi-fg-8 { color: #8b949e; } .ansi-fg-9 { color: #ffa198; } .ansi-fg-10 { color: #56d364; } .ansi-fg-11 { color: #e3b341; }
.ansi-fg-12 { color: #79c0ff; } .ansi-fg-13 { color: #d2a8ff; } .ansi-fg-14 { color: #56d4dd; } .ansi-fg-15 { color: #ffffff; }
.ansi-bg-0 { background: #484f58; } .ansi-bg-1 { background: #8e1519; } .ansi-bg-2 { background: #1a7f37; } .ansi-bg-3 { background: #7d4e00; }
.ansi-bg-4 { background: #0a3069; } .ansi-bg-5 { background: #6639ba; } .ansi-bg-6 { background: #0e5a63; } .ansi-bg-7 { background: #6e7681; }
.ansi-bg-8 { background: #6e7681; } .ansi-bg-9 { background: #a40e26; } .ansi-bg-10 { background: #2da44e; } .ansi-bg-11 { background: #9a6700; }
.ansi-bg-12 { background: #218bff; } .ansi-bg-13 { background: #8250df; } .ansi-bg-14 { background: #1b7c83; } .ansi-bg-15 { background: #8b949e; }
.delta-better { color: var(--ok); font-weight: 600; } .delta-worse { color: var(--bad); font-weight: 600; }
.verdict { font-weight: 700; }
.diff td { background: var(--warn-soft); }
.chart { margin: .3em 0 1em; max-width: 100%; overflow: hidden; }
.chart figcaption { font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 380px), 1fr)); gap: .5em 1.5em; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.inline { display: inline; }
details.more > summary { cursor: pointer; color: var(--accent); }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: .4em 0; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
tr.current td { background: #eff6ff; }
tr:has(:target) > * { background: #fef3c7; }
th button.sort { border: none; background: none; padding: 0; font-weight: 600; cursor: pointer; }
#parcoords { width: 100%; height: 340px; }
.launch-parameters input, .launch-parameters select { width: 12em; max-width: 100%; }
.launch-parameters td { max-width: 60vw; }
pre.log-lines { white-space: pre-wrap; overflow-wrap: anywhere; }
.log .log-note button { background: #21262d; color: #e6edf3; border-color: #8b949e; padding: .2em .6em; font-size: 12.5px; }
.hidden { display: none !important; }
@media (max-width: 640px) {
  main { padding: .8em .7em 2em; }
  h1 { font-size: 1.2em; }
  .hide-narrow { display: none; }
  th, td { padding: .25em .4em; }
  .log-line .no { min-width: 3em; padding-right: .5em; }
  header.top .user { margin-left: 0; }
}
`;
