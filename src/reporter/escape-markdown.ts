/**
 * Makes untrusted text (metric names and values, parameters, messages)
 * inert in GitHub markdown: it can't become a link, HTML, a table cell
 * break, code, emphasis or an @mention, and it stays on one line.
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
  return cut.replace(
    /[\\&<>|`[\]*_~#!@\n\r]/g,
    (char) => REPLACEMENTS[char] ?? char,
  );
}
