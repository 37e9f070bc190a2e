/**
 * Builds a step's shell commands from its `command` and parameter values,
 * exactly as Valohai does (`valohai_yaml/commands.py`,
 * `Parameter.format_cli`): placeholders are replaced, every substituted
 * token is `shlex.quote`d, anything else is left as written.
 */
import type { Parameter, Step } from './config-model.js';
import { PyFloat } from './py-scalars.js';
import { pySplit, pyStrip } from './py-whitespace.js';
import { pythonStr } from './python-str.js';
import { shellQuote } from './shell-quote.js';
import { KilnError } from '../errors.js';

export { resolveParameterValues } from './resolve-parameter-values.js';

/** Stops a hostile file (`{parameters}` × 100k) from exhausting memory. */
const MAX_COMMAND_CHARS = 16 * 1024 * 1024;

/** Thrown when the built command would exceed `MAX_COMMAND_CHARS`. */
export class CommandTooLongError extends KilnError {
  readonly code = 'COMMAND_TOO_LONG';
  constructor(step: string) {
    super(
      `the command of step "${step}" grows beyond ${MAX_COMMAND_CHARS} characters once parameters are filled in; use fewer {parameters} placeholders`,
    );
  }
}

/**
 * One output item per `command` item, with placeholders filled from
 * `values` (already converted, see convert-parameter-value.ts; a name
 * without a value is absent). Pure; throws only `CommandTooLongError`.
 */
export function buildCommand(
  step: Step,
  values: Readonly<Record<string, unknown>>,
): string[] {
  // Like Python's dict: a repeated name keeps its first position.
  const parameters = new Map<string, Parameter>();
  for (const parameter of step.parameters) {
    parameters.set(parameter.name, parameter);
  }
  const context: FillContext = {
    step,
    parameters,
    values,
    allParameters: undefined,
  };
  let total = 0;
  return step.command.map((item) => {
    const built = pyStrip(fillPlaceholders(item, context));
    total += built.length;
    if (total > MAX_COMMAND_CHARS) throw new CommandTooLongError(step.name);
    return built;
  });
}

interface FillContext {
  step: Step;
  parameters: Map<string, Parameter>;
  values: Readonly<Record<string, unknown>>;
  /** `{parameters}` rendered once, on first use. */
  allParameters: string | undefined;
}

/**
 * Python's `re.sub(r"{(.+?)}", …)`: a `{`, at least one character, then
 * the next `}`, all on one line. Scanned by hand so that a line full of
 * unmatched `{` stays linear.
 */
function fillPlaceholders(text: string, context: FillContext): string {
  let out = '';
  let copied = 0;
  let close = -1;
  let newline = -1;
  let open = text.indexOf('{');
  while (open !== -1) {
    if (close < open + 2) close = text.indexOf('}', open + 2);
    if (close === -1) break;
    if (newline <= open) {
      newline = text.indexOf('\n', open + 1);
      if (newline === -1) newline = Infinity;
    }
    if (newline < close) {
      open = text.indexOf('{', open + 1);
      continue;
    }
    const inner = text.slice(open + 1, close);
    const replacement = replacePlaceholder(inner, context);
    if (replacement !== undefined) {
      out += text.slice(copied, open) + replacement;
      if (out.length > MAX_COMMAND_CHARS) {
        throw new CommandTooLongError(context.step.name);
      }
      copied = close + 1;
    }
    open = text.indexOf('{', close + 1);
  }
  return out + text.slice(copied);
}

/** The text for `{inner}`, or undefined to leave it as written. */
function replacePlaceholder(
  inner: string,
  context: FillContext,
): string | undefined {
  const { step, parameters, values } = context;
  if (inner === 'source-path' && step.sourcePath !== undefined) {
    return shellQuote(step.sourcePath);
  }
  if (inner === 'parameters' || inner === 'params') {
    context.allParameters ??= [...parameters.values()]
      .flatMap((parameter) =>
        renderParameter(parameter, valueOf(values, parameter.name)),
      )
      .map(shellQuote)
      .join(' ');
    return context.allParameters;
  }
  if (inner.startsWith('parameter:')) {
    const parameter = parameters.get(inner.slice('parameter:'.length));
    if (parameter) {
      return renderParameter(parameter, valueOf(values, parameter.name))
        .map(shellQuote)
        .join(' ');
    }
  }
  if (inner.startsWith('parameter-value:')) {
    const value = valueOf(values, inner.slice('parameter-value:'.length));
    if (value !== undefined) return shellQuote(pythonStr(value));
  }
  return undefined;
}

function valueOf(
  values: Readonly<Record<string, unknown>>,
  name: string,
): unknown {
  if (!Object.hasOwn(values, name)) return undefined;
  const value = values[name];
  return value === null ? undefined : value;
}

/** `Parameter.format_cli`: the unquoted tokens for one parameter. */
function renderParameter(parameter: Parameter, value: unknown): string[] {
  const template = chooseTemplate(parameter, value);
  if (!template) return [];
  const bits = pySplit(template);
  const format = (text: string): string[] =>
    bits.map((bit) =>
      // str.format: `{{` and `}}` are literal braces.
      bit.replace(/\{\{|\}\}|\{(name|value|v)\}/g, (match, key?: string) =>
        key === undefined
          ? match.charAt(0)
          : key === 'name'
            ? parameter.name
            : text,
      ),
    );
  if (parameter.type === 'flag' || parameter.multiple === 'none') {
    return format(pythonStr(value));
  }
  const items = Array.isArray(value) ? value : [value];
  if (parameter.multiple === 'repeat') {
    return items.flatMap((item) => format(pythonStr(item)));
  }
  // An empty list must not render as a bare `--ids=`.
  if (items.length === 0) return [];
  return format(items.map(pythonStr).join(parameter.multipleSeparator));
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
