/**
 * `Parameter.format_cli` of valohai-yaml: the unquoted command-line tokens
 * one parameter renders to. Its template (`pass-as`, `pass-true-as`,
 * `pass-false-as` or the default) is split on whitespace, and each bit goes
 * through Python's `str.format_map` with `name`, `value` and `v`, so
 * `--n={v:03d}` with 7 gives `--n=007`.
 */
import type { Parameter } from './config-model.js';
import { formatPythonValue } from './format-python-value.js';
import { parseFormatTemplate } from './parse-format-template.js';
import type { ParsedTemplate, TemplatePart } from './parse-format-template.js';
import { PyFloat } from './py-scalars.js';
import { pySplit } from './py-whitespace.js';
import { exactPythonRepr, pythonStr } from './python-str.js';

export type RenderResult =
  { ok: true; tokens: string[] } | { ok: false; message: string };

/**
 * The tokens for `value` (converted, see convert-parameter-value.ts;
 * undefined when the parameter has none), or why they cannot be built: a
 * template Python's `str.format` refuses (the config check reports those
 * first), or a value its spec cannot format (`{v:c}` with 1114112). Pure.
 */
export function renderParameter(
  parameter: Parameter,
  value: unknown,
): RenderResult {
  const template = chooseTemplate(parameter, value);
  if (!template) return { ok: true, tokens: [] };
  const bits: TemplatePart[][] = [];
  for (const bit of pySplit(template)) {
    const parsed = parseBit(bit);
    if (!parsed.ok) return { ok: false, message: describeProblem(parsed) };
    bits.push(parsed.parts);
  }
  const tokens: string[] = [];
  const format = (atom: unknown): string | undefined => {
    for (const parts of bits) {
      let token = '';
      for (const part of parts) {
        if (typeof part === 'string') {
          token += part;
          continue;
        }
        const field = part.name === 'name' ? parameter.name : atom;
        const converted =
          part.conversion === undefined
            ? field
            : convertField(field, part.conversion);
        const result = formatPythonValue(converted, part.spec);
        if (!result.ok) return `${part.text}: ${result.message}`;
        token += result.text;
      }
      tokens.push(token);
    }
    return undefined;
  };
  let problem: string | undefined;
  if (parameter.type === 'flag' || parameter.multiple === 'none') {
    problem = format(value);
  } else {
    const items = Array.isArray(value) ? value : [value];
    if (parameter.multiple === 'repeat') {
      for (const item of items) problem ??= format(item);
    } else if (items.length > 0) {
      // An empty list must not render as a bare `--ids=`.
      problem = format(items.map(pythonStr).join(parameter.multipleSeparator));
    }
  }
  return problem === undefined
    ? { ok: true, tokens }
    : { ok: false, message: problem };
}

/** The message for a template Python (or kiln) will not build. */
export function describeProblem(
  parsed: Extract<ParsedTemplate, { ok: false }>,
): string {
  return parsed.field === undefined
    ? parsed.message
    : `${parsed.field}: ${parsed.message}`;
}

/** Each distinct bit is parsed once; bounded, as templates come from files. */
const parsedBits = new Map<string, ParsedTemplate>();

function parseBit(bit: string): ParsedTemplate {
  let parsed = parsedBits.get(bit);
  if (parsed === undefined) {
    if (parsedBits.size >= 1024) parsedBits.clear();
    parsed = parseFormatTemplate(bit);
    parsedBits.set(bit, parsed);
  }
  return parsed;
}

/** `!r`, `!s`, `!a`: the field becomes a str first. */
function convertField(value: unknown, conversion: 'r' | 's' | 'a'): string {
  if (conversion === 's') return pythonStr(value);
  const repr = exactPythonRepr(value);
  return conversion === 'r' ? repr : toAscii(repr);
}

/** Python's `ascii()` of a repr: non-ASCII code points escaped. */
function toAscii(repr: string): string {
  let out = '';
  for (const char of repr) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) out += char;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code <= 0xffff) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return out;
}

/**
 * `ParameterMap.build_parameter_by_name` then
 * `Parameter._get_pass_as_template`: a parameter without a value renders
 * nothing, a flag's `pass-false-as` included (Valohai skips a None value
 * before it looks at the templates).
 */
function chooseTemplate(
  parameter: Parameter,
  value: unknown,
): string | undefined {
  if (value === undefined) return undefined;
  if (parameter.type === 'flag') {
    if (parameter.passTrueAs || parameter.passFalseAs) {
      return (
        (isTruthy(value) ? parameter.passTrueAs : parameter.passFalseAs) ||
        undefined
      );
    }
    if (!isTruthy(value)) return undefined;
  }
  if (parameter.passAs) return parameter.passAs;
  return parameter.type === 'flag' ? '--{name}' : '--{name}={value}';
}

/** Python truthiness of a converted value. */
function isTruthy(value: unknown): boolean {
  // bool(nan) is True in Python.
  if (value instanceof PyFloat) return value.value !== 0;
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}
