/**
 * Python's `str.format` template syntax as Valohai's builder meets it: it
 * calls `bit.format_map({"name": …, "value": …, "v": …})` on each
 * whitespace-separated bit of `pass-as`. A bit is literal text, `{{` and
 * `}}` for braces, and fields `{name|value|v[!r|!s|!a][:spec]}`. What
 * Python raises on, and what kiln does not build (attribute or index access,
 * fields nested in a spec), is a message instead.
 */

export type FieldName = 'name' | 'value' | 'v';

export interface FormatField {
  /** The field as written, braces included (for messages). */
  text: string;
  name: FieldName;
  conversion?: 'r' | 's' | 'a';
  /** The format spec after `:`; empty when none. */
  spec: string;
}

export type TemplatePart = string | FormatField;

export type ParsedTemplate =
  | { ok: true; parts: TemplatePart[] }
  | {
      ok: false;
      /** The field at fault, as written; undefined for stray braces. */
      field?: string;
      message: string;
      /** True when Python would build it and kiln does not. */
      unsupported?: true;
    };

const NAMES = new Set<string>(['name', 'value', 'v']);

/** Reads one bit (no whitespace splitting here). Pure; never throws. */
export function parseFormatTemplate(text: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let literal = '';
  let at = 0;
  while (at < text.length) {
    const char = text[at];
    if (char !== '{' && char !== '}') {
      literal += char;
      at += 1;
      continue;
    }
    if (text[at + 1] === char) {
      literal += char;
      at += 2;
      continue;
    }
    if (char === '}') {
      return { ok: false, message: "Single '}' encountered in format string" };
    }
    if (at + 1 >= text.length) {
      return { ok: false, message: "Single '{' encountered in format string" };
    }
    const end = findFieldEnd(text, at + 1);
    if (end === undefined) {
      return {
        ok: false,
        field: text.slice(at),
        message: "expected '}' before end of string",
      };
    }
    const field = parseField(text.slice(at, end + 1));
    if ('message' in field) return { ok: false, ...field };
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(field);
    at = end + 1;
  }
  if (literal !== '') parts.push(literal);
  return { ok: true, parts };
}

/**
 * The index of the `}` closing the field whose text starts at `start`:
 * braces nest (a spec may hold fields), and `[...]` in the field name hides
 * them, as in CPython's MarkupIterator.
 */
function findFieldEnd(text: string, start: number): number | undefined {
  let depth = 1;
  let inName = true;
  for (let at = start; at < text.length; at += 1) {
    const char = text[at];
    if (inName && char === '[') {
      const close = text.indexOf(']', at + 1);
      if (close === -1) return undefined;
      at = close;
    } else if (char === ':' || char === '!') {
      inName = false;
    } else if (char === '{') {
      depth += 1;
    } else if (char === '}') {
      depth -= 1;
      if (depth === 0) return at;
    }
  }
  return undefined;
}

function parseField(
  text: string,
): FormatField | { field: string; message: string; unsupported?: true } {
  const inner = text.slice(1, -1);
  const stop = inner.search(/[!:]/);
  const name = stop === -1 ? inner : inner.slice(0, stop);
  let rest = stop === -1 ? '' : inner.slice(stop);
  const fail = (message: string, unsupported?: true) => ({
    field: text,
    message,
    ...(unsupported ? { unsupported } : {}),
  });
  const head = /^[^.[]*/.exec(name)?.[0] ?? '';
  if (head === '' || /^[0-9]+$/.test(head)) {
    return fail('Format string contains positional fields');
  }
  if (head !== name) {
    return fail(
      'attribute and index access in a field is not built by kiln',
      true,
    );
  }
  if (!NAMES.has(name)) {
    return fail(`KeyError: '${name}' (the only names are name, value and v)`);
  }
  let conversion: FormatField['conversion'];
  if (rest.startsWith('!')) {
    const letter = rest[1];
    if (letter === undefined) {
      return fail('end of string while looking for conversion specifier');
    }
    if (letter !== 'r' && letter !== 's' && letter !== 'a') {
      return fail(`Unknown conversion specifier ${letter}`);
    }
    conversion = letter;
    rest = rest.slice(2);
    if (rest !== '' && !rest.startsWith(':')) {
      return fail("expected ':' after conversion specifier");
    }
  }
  const spec = rest.slice(1);
  if (/[{}]/.test(spec)) {
    return fail('a field nested in a format spec is not built by kiln', true);
  }
  return {
    text,
    name: name as FieldName,
    spec,
    ...(conversion ? { conversion } : {}),
  };
}
