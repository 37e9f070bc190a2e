/**
 * Makes untrusted text (metric names and values, parameters, messages)
 * inert in GitHub markdown: it can't become a link, HTML, a table cell
 * break, code, emphasis or an @mention, and it stays on one line. Bare
 * URLs count: GitHub links `https://…`, `http://…` and `www.…` by
 * themselves (GFM autolinks), so a zero-width space goes after the scheme's
 * colon and into `www.` — shown the same, linked nowhere.
 */
const REPLACEMENTS: Record<string, string> = {
  '\\': '\\\\',
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '|': '\\|',
  '`': '\\`',
  '[': '\\[',
  ']': '\\]',
  '*': '\\*',
  _: '\\_',
  '~': '\\~',
  '#': '\\#',
  '!': '\\!',
  '@': '@\u200b',
  '\n': ' ',
  '\r': ' ',
};

export function escapeMarkdown(text: string, maxLength = 200): string {
  const cut =
    text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
  return cut
    .replace(/[\\&<>|`[\]*_~#!@\n\r]/g, (char) => REPLACEMENTS[char] ?? char)
    .replace(/:\/\//g, ':\u200b//')
    .replace(/\bwww\./gi, (www) => `${www.slice(0, 3)}\u200b.`);
}
