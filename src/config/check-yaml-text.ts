/**
 * Checks a YAML text must pass before it is parsed at all: its size, its
 * shape (lines, flow separators, top-level items: what the parser's time
 * grows with — 340,000 items of one flow list in 680 KB kept the event loop
 * busy for 10 s, 10,000 steps in 840 KB for 1.5 s), and the characters
 * PyYAML's reader refuses. Cheap and linear, so a hostile text is turned
 * away before the parser spends time or memory on it.
 */

export interface TextProblem {
  /** 1-based; 0 when the problem is the text as a whole. */
  line: number;
  column: number;
  message: string;
}

/**
 * PyYAML's Reader.NON_PRINTABLE: everything outside tab, line breaks,
 * printable ASCII, NEL and the printable Unicode planes (lone surrogates,
 * U+FFFE and U+FFFF included).
 */
const NON_PRINTABLE =
  /[^\t\n\r\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Far beyond any real pipeline file; each bounds the parser's work. */
export const MAX_CONFIG_LINES = 5_000;
export const MAX_FLOW_SEPARATORS = 5_000;
/** Flow items on one line cost the parser more the longer the line. */
export const MAX_LINE_SEPARATORS = 1_000;
export const MAX_CONFIG_ITEMS = 1_000;

export function checkYamlText(
  text: string,
  maxBytes: number,
): TextProblem | undefined {
  if (exceedsUtf8Bytes(text, maxBytes)) {
    return {
      line: 0,
      column: 0,
      message: `the file is larger than ${maxBytes} bytes; kiln reads pipeline files up to that size`,
    };
  }
  const shape = checkShape(text);
  if (shape) return shape;
  const match = NON_PRINTABLE.exec(text);
  if (!match) return undefined;
  const code = match[0].codePointAt(0) ?? 0;
  const { line, column } = locate(text, match.index);
  const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const kind = isControl(code) ? 'control character' : 'character';
  return {
    line,
    column,
    message: `${kind} ${name} at line ${line}, column ${column} is not allowed in YAML; remove it or write it as an escape in a double-quoted string`,
  };
}

function checkShape(text: string): TextProblem | undefined {
  let lines = 1;
  let commas = 0;
  let lineCommas = 0;
  let widest = { line: 0, commas: 0 };
  let items = text.startsWith('-') ? 1 : 0;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit === 10) {
      if (lineCommas > widest.commas)
        widest = { line: lines, commas: lineCommas };
      lineCommas = 0;
      lines += 1;
      if (text.charCodeAt(i + 1) === 45) items += 1; // "-" at column 1
    } else if (unit === 44) {
      commas += 1;
      lineCommas += 1;
    }
  }
  if (lineCommas > widest.commas) widest = { line: lines, commas: lineCommas };
  const whole = (message: string): TextProblem => ({
    line: 0,
    column: 0,
    message,
  });
  if (lines > MAX_CONFIG_LINES) {
    return whole(
      `the file has ${lines} lines; kiln reads pipeline files of up to ${MAX_CONFIG_LINES} lines`,
    );
  }
  if (commas > MAX_FLOW_SEPARATORS) {
    return whole(
      `the file has ${commas} commas; kiln reads pipeline files with up to ${MAX_FLOW_SEPARATORS} (long [a, b, …] lists are slow to read: write fewer items)`,
    );
  }
  if (widest.commas > MAX_LINE_SEPARATORS) {
    return {
      line: widest.line,
      column: 1,
      message: `line ${widest.line} has ${widest.commas} commas; kiln reads lines with up to ${MAX_LINE_SEPARATORS} (a long [a, b, …] list on one line is slow to read: put its items on lines of their own)`,
    };
  }
  if (items > MAX_CONFIG_ITEMS) {
    return whole(
      `the file has ${items} top-level items (steps, pipelines, …); kiln reads up to ${MAX_CONFIG_ITEMS}`,
    );
  }
  return undefined;
}

/** Counts UTF-8 bytes only as far as needed: a 50 MB text stops early. */
function exceedsUtf8Bytes(text: string, maxBytes: number): boolean {
  // Every UTF-16 unit is at least one byte and at most three.
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      // A surrogate pair is one 4-byte character.
      bytes += 4;
      i += 1;
    } else bytes += 3;
    if (bytes > maxBytes) return true;
  }
  return false;
}

function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

function locate(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index; i += 1) {
    const char = text[i];
    if (char === '\n' || (char === '\r' && text[i + 1] !== '\n')) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: index - lineStart + 1 };
}
