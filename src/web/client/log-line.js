/**
 * How a stored log line is shown, as a terminal would show it: a line a
 * progress bar redrew with `\r` shows where it ended; ANSI SGR colours and
 * styles become segments (other escape sequences are dropped); GitHub
 * Actions' `::group::TITLE` / `::endgroup::` lines (and `##[group]`) fold
 * what is between them.
 *
 * Pure and shared: the browser's log viewer (log-view.js) and the
 * server-rendered pages (the failure panel's last lines) use the same
 * functions, so a line looks the same before and after the script runs.
 */

/** The text a terminal shows for a line redrawn with `\r`. */
export function collapseCarriageReturns(text) {
  const trimmed = text.replace(/\r+$/, '');
  const at = trimmed.lastIndexOf('\r');
  return at < 0 ? trimmed : trimmed.slice(at + 1);
}

/** `{kind: 'start', title}`, `{kind: 'end'}` or null. */
export function groupMarker(text) {
  const start = /^(?:::group::|##\[group\])(.*)$/.exec(text);
  if (start) return { kind: 'start', title: start[1].trim() || 'group' };
  if (/^(?:::endgroup::|##\[endgroup\])\s*$/.test(text)) return { kind: 'end' };
  return null;
}

/* eslint-disable no-control-regex -- escape sequences are the point */
const ESCAPES =
  /\x1b\[([0-9;:?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;
/* eslint-enable no-control-regex */

/**
 * Segments of a line: `{text, fg?, bg?, bold?, dim?, italic?, underline?}`
 * where a colour is `0`–`15` (the terminal's palette, as a class) or
 * `#rrggbb` (256-colour and true-colour codes).
 */
export function parseAnsi(input) {
  const text = collapseCarriageReturns(input);
  const segments = [];
  let state = {};
  let last = 0;
  const push = (part) => {
    const clean = part.replace(CONTROLS, '');
    if (clean) segments.push({ text: clean, ...state });
  };
  ESCAPES.lastIndex = 0;
  for (let match = ESCAPES.exec(text); match; match = ESCAPES.exec(text)) {
    push(text.slice(last, match.index));
    last = ESCAPES.lastIndex;
    if (match[2] === 'm') state = applySgr(state, match[1] ?? '');
  }
  push(text.slice(last));
  return segments;
}

/** The line's text without escape sequences (search, copy, raw views). */
export function plainText(input) {
  return parseAnsi(input)
    .map((segment) => segment.text)
    .join('');
}

function applySgr(previous, parameters) {
  const state = { ...previous };
  const codes = parameters === '' ? [0] : parameters.split(/[;:]/).map(Number);
  for (let index = 0; index < codes.length; index += 1) {
    const code = codes[index];
    if (code === 0 || Number.isNaN(code)) {
      for (const key of Object.keys(state)) delete state[key];
    } else if (code === 1) state.bold = true;
    else if (code === 2) state.dim = true;
    else if (code === 3) state.italic = true;
    else if (code === 4) state.underline = true;
    else if (code === 22) {
      delete state.bold;
      delete state.dim;
    } else if (code === 23) delete state.italic;
    else if (code === 24) delete state.underline;
    else if (code >= 30 && code <= 37) state.fg = code - 30;
    else if (code >= 90 && code <= 97) state.fg = code - 90 + 8;
    else if (code === 39) delete state.fg;
    else if (code >= 40 && code <= 47) state.bg = code - 40;
    else if (code >= 100 && code <= 107) state.bg = code - 100 + 8;
    else if (code === 49) delete state.bg;
    else if (code === 38 || code === 48) {
      const key = code === 38 ? 'fg' : 'bg';
      if (codes[index + 1] === 5 && index + 2 < codes.length) {
        state[key] = color256(codes[index + 2]);
        index += 2;
      } else if (codes[index + 1] === 2 && index + 4 < codes.length) {
        state[key] = hex(codes[index + 2], codes[index + 3], codes[index + 4]);
        index += 4;
      }
    }
  }
  return state;
}

function color256(code) {
  if (!(code >= 0 && code <= 255)) return undefined;
  if (code < 16) return code;
  if (code >= 232) {
    const level = 8 + (code - 232) * 10;
    return hex(level, level, level);
  }
  const value = code - 16;
  const steps = [0, 95, 135, 175, 215, 255];
  return hex(
    steps[Math.floor(value / 36)],
    steps[Math.floor(value / 6) % 6],
    steps[value % 6],
  );
}

function hex(red, green, blue) {
  const part = (value) =>
    Math.max(0, Math.min(255, Number(value) || 0))
      .toString(16)
      .padStart(2, '0');
  return `#${part(red)}${part(green)}${part(blue)}`;
}

/**
 * A segment's presentation: CSS classes (palette colours and styles) and
 * an inline style for exact colours. Both are made here from numbers and
 * fixed names, never from the log's text.
 */
export function segmentPresentation(segment) {
  const classes = [];
  let style = '';
  if (typeof segment.fg === 'number') classes.push(`ansi-fg-${segment.fg}`);
  else if (typeof segment.fg === 'string') style += `color:${segment.fg};`;
  if (typeof segment.bg === 'number') classes.push(`ansi-bg-${segment.bg}`);
  else if (typeof segment.bg === 'string')
    style += `background-color:${segment.bg};`;
  if (segment.bold) classes.push('ansi-bold');
  if (segment.dim) classes.push('ansi-dim');
  if (segment.italic) classes.push('ansi-italic');
  if (segment.underline) classes.push('ansi-underline');
  return { className: classes.join(' '), style };
}
