/**
 * Builds a step's shell commands from its `command` and parameter values,
 * exactly as Valohai does (`valohai_yaml/commands.py`,
 * `Parameter.format_cli`): placeholders are replaced, every substituted
 * token is `shlex.quote`d, anything else is left as written.
 */
import type { Parameter, Step } from './config-model.js';
import { pyStrip } from './py-whitespace.js';
import { pythonStr } from './python-str.js';
import { renderParameter } from './render-parameter.js';
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
 * Thrown when a parameter cannot be rendered: its template is one Python's
 * `str.format` refuses, or its value does not suit the template's format
 * spec. Loaded configs and values from `resolveParameterValues` are checked
 * for both first, so this means a caller skipped those checks.
 */
export class ParameterRenderError extends KilnError {
  readonly code = 'PARAMETER_RENDER';
  constructor(step: string, parameter: string, problem: string) {
    super(
      `step "${step}": parameter "${parameter}" cannot be rendered: ${problem}`,
    );
  }
}

/**
 * One output item per `command` item, with placeholders filled from
 * `values` (already converted, see convert-parameter-value.ts; a name
 * without a value is absent). Pure; throws `CommandTooLongError` and
 * `ParameterRenderError`.
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
        renderTokens(step, parameter, valueOf(values, parameter.name)),
      )
      .map(shellQuote)
      .join(' ');
    return context.allParameters;
  }
  if (inner.startsWith('parameter:')) {
    const parameter = parameters.get(inner.slice('parameter:'.length));
    if (parameter) {
      return renderTokens(step, parameter, valueOf(values, parameter.name))
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

/** `Parameter.format_cli`, or `ParameterRenderError`. */
function renderTokens(
  step: Step,
  parameter: Parameter,
  value: unknown,
): string[] {
  const rendered = renderParameter(parameter, value);
  if (!rendered.ok) {
    throw new ParameterRenderError(step.name, parameter.name, rendered.message);
  }
  return rendered.tokens;
}
