/**
 * Checks a YAML text must pass before it is parsed at all: its size, and the
 * characters PyYAML's reader refuses. Cheap and linear, so a hostile text is
 * turned away before the parser spends time or memory on it.
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
