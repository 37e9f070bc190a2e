/**
 * A parameter's templates (`pass-as`, `pass-true-as`, `pass-false-as`) must
 * be ones Valohai's builder can build: it runs Python's `str.format_map` on
 * each whitespace-separated bit with `name`, `value` and `v`, so a stray
 * brace, an unknown name or a format spec that does not suit the value's
 * type (`{v:03d}` on a float) fails when the step is launched, on Valohai as
 * on kiln. Such a template is an error here, with its line and column; so
 * is what kiln does not build (attribute or index access, fields nested in
 * a spec).
 */
import { addAdvice, addError } from './finding-sink.js';
import type { FindingSink } from './finding-sink.js';
import { checkFormatSpec } from './format-python-value.js';
import type { PyKind } from './format-python-value.js';
import { convertParameterValue } from './convert-parameter-value.js';
import { normalizeParameter } from './normalize-step.js';
import { parseFormatTemplate } from './parse-format-template.js';
import { pySplit } from './py-whitespace.js';
import { pythonRepr } from './python-repr.js';
import { describeProblem, renderParameter } from './render-parameter.js';
import type { PathSegment } from './yaml-document.js';

export interface LintPassAsOptions {
  /** The parameter mapping as read. */
  raw: Record<string, unknown>;
  path: PathSegment[];
  /** `parameter "lr" in step "train"`, for messages. */
  where: string;
}

const KINDS: Readonly<Record<string, PyKind>> = {
  integer: 'int',
  float: 'float',
  flag: 'bool',
};

export function lintPassAs(
  sink: FindingSink,
  options: LintPassAsOptions,
): void {
  const { raw, path, where } = options;
  const type = typeof raw.type === 'string' ? raw.type : 'string';
  // `multiple: separate` joins the items' texts into one str value.
  const kind: PyKind =
    type !== 'flag' && raw.multiple === 'separate'
      ? 'str'
      : (KINDS[type] ?? 'str');
  let broken = false;
  for (const key of templateKeys(raw)) {
    const template = raw[key];
    if (typeof template !== 'string' || template === '') continue;
    const problem = checkTemplate(template, kind);
    if (problem === undefined) continue;
    broken = true;
    addError(sink, [...path, key], `"${key}" of ${where} ${problem}`);
  }
  if (!broken) checkDefault(sink, options);
}

/** The keys Valohai renders with: a flag's true/false pair wins over pass-as. */
function templateKeys(raw: Record<string, unknown>): string[] {
  if (raw.type !== 'flag') return ['pass-as'];
  const pair = ['pass-true-as', 'pass-false-as'].filter(
    (key) => typeof raw[key] === 'string' && raw[key] !== '',
  );
  return pair.length > 0 ? pair : ['pass-as'];
}

/** The rest of a message about `template`, or undefined when it builds. */
function checkTemplate(template: string, kind: PyKind): string | undefined {
  for (const bit of pySplit(template)) {
    const parsed = parseFormatTemplate(bit);
    if (!parsed.ok) {
      return parsed.unsupported
        ? `cannot be built by kiln: ${describeProblem(parsed)}; use {name}, {value} or {v}, with a format spec if needed`
        : pythonRefuses(describeProblem(parsed));
    }
    for (const part of parsed.parts) {
      if (typeof part === 'string') continue;
      // `{name}` and a converted field (`!r`) are strs.
      const fieldKind =
        part.name === 'name' || part.conversion !== undefined ? 'str' : kind;
      const problem = checkFormatSpec(fieldKind, part.spec);
      if (problem !== undefined) {
        return pythonRefuses(`${part.text}: ${problem}`);
      }
    }
  }
  return undefined;
}

function pythonRefuses(problem: string): string {
  return `cannot be built: ${problem}; Valohai's builder (Python's str.format) fails on it too — fix the field, or write {{ and }} for literal braces`;
}

/**
 * A default the template cannot format (`{v:c}` with 1114112) leaves the
 * step without a command until a value is given: kiln's advice.
 */
function checkDefault(sink: FindingSink, options: LintPassAsOptions): void {
  const { raw, path, where } = options;
  if (raw.default === undefined || raw.default === null) return;
  const parameter = normalizeParameter(raw);
  const converted = convertParameterValue(parameter, raw.default);
  if (!converted.ok) return;
  const rendered = renderParameter(parameter, converted.value);
  if (rendered.ok) return;
  addAdvice(
    sink,
    [...path, 'default'],
    `default ${pythonRepr(raw.default)} of ${where} cannot be rendered: ${rendered.message}; the step needs another value to launch`,
  );
}
