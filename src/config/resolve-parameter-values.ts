/**
 * The parameter values a step is launched with: its defaults (flags
 * included, as `vh exec run` sends them) overlaid with values given by the
 * user, all converted to the parameters' types.
 */
import {
  checkParameterText,
  checkParameterValue,
} from './check-parameter-value.js';
import { formatSuggestion } from './closest-name.js';
import type { Parameter, Step } from './config-model.js';
import { convertParameterValue } from './convert-parameter-value.js';
import { pythonStr } from './python-str.js';
import { renderParameter } from './render-parameter.js';

export interface ResolveParameterValuesOptions {
  /** Start from the step's defaults; false = only the given values. */
  useDefaults: boolean;
}

export interface ResolvedParameterValues {
  /** Converted values by parameter name (null prototype); ready for buildCommand. */
  values: Record<string, unknown>;
  /** One sentence per problem, saying how to fix it; empty when launchable. */
  errors: string[];
  /**
   * Parameters whose default or given value could not be converted to the
   * parameter's type, or rendered by its template (`{v:c}` with 1114112);
   * a subset of what `errors` reports. `kiln plan` shows no command for a
   * step whose defaults cannot be converted or rendered.
   */
  unconvertible: string[];
  /**
   * Required parameters left without a value (also in `errors`). Callers
   * that expect values from pipeline edges later filter on this list.
   */
  missing: string[];
  /** The errors again, each with its kind, for callers that treat kinds differently. */
  issues: Array<{ kind: 'unknown' | 'missing' | 'invalid'; message: string }>;
}

/**
 * Pure. `overrides` maps a parameter name to a value as typed on the
 * command line (a string; a list of strings for a `multiple` parameter) or
 * as read from a file. Unknown names, values that do not convert, cannot be
 * rendered or are not allowed (`choices`, `min`, `max`), and required
 * parameters left without a value are errors; with none, `buildCommand`
 * succeeds on `values`.
 */
export function resolveParameterValues(
  step: Step,
  overrides: Readonly<Record<string, unknown>>,
  options: ResolveParameterValuesOptions,
): ResolvedParameterValues {
  const values: Record<string, unknown> = Object.create(null) as Record<
    string,
    unknown
  >;
  const errors: string[] = [];
  const unconvertible: string[] = [];
  const missing: string[] = [];
  const issues: ResolvedParameterValues['issues'] = [];
  const report = (kind: 'unknown' | 'missing' | 'invalid', message: string) => {
    errors.push(message);
    issues.push({ kind, message });
  };
  const byName = new Map<string, Parameter>();
  for (const parameter of step.parameters) {
    byName.set(parameter.name, parameter);
  }

  for (const name of Object.keys(overrides)) {
    if (byName.has(name)) continue;
    const known = [...byName.keys()];
    const hint =
      formatSuggestion(name, known) ||
      (known.length > 0
        ? ` (its parameters: ${known.join(', ')})`
        : ' (it declares none)');
    report('unknown', `step "${step.name}" has no parameter "${name}"${hint}`);
  }

  for (const parameter of byName.values()) {
    const given = Object.hasOwn(overrides, parameter.name)
      ? overrides[parameter.name]
      : undefined;
    const source = chooseSource(parameter, given, options);
    if (source === undefined) {
      if (isRequired(parameter)) {
        missing.push(parameter.name);
        report(
          'missing',
          `step "${step.name}" needs a value for required parameter "${parameter.name}"; give one with --param ${parameter.name}=VALUE or add a default`,
        );
      }
      continue;
    }
    const converted = convertParameterValue(parameter, source.value);
    if (!converted.ok) {
      report('invalid', `step "${step.name}": ${converted.message}`);
      unconvertible.push(parameter.name);
      continue;
    }
    // Given values only, as for the checks below (a file's own defaults
    // are the planner's to bound).
    const unpassable = source.given
      ? checkParameterText(parameter, converted.value)
      : null;
    if (unpassable !== null) {
      report('invalid', `step "${step.name}": ${unpassable}`);
      unconvertible.push(parameter.name);
      continue;
    }
    const rendered = renderParameter(parameter, converted.value);
    if (!rendered.ok) {
      report(
        'invalid',
        `step "${step.name}": parameter "${parameter.name}": ${pythonStr(converted.value)} cannot be rendered: ${rendered.message}`,
      );
      unconvertible.push(parameter.name);
      continue;
    }
    values[parameter.name] = converted.value;
    if (source.given) {
      for (const problem of checkParameterValue(parameter, converted.value)) {
        report('invalid', `step "${step.name}": ${problem}`);
      }
    }
  }
  return { values, errors, unconvertible, missing, issues };
}

function chooseSource(
  parameter: Parameter,
  given: unknown,
  options: ResolveParameterValuesOptions,
): { value: unknown; given: boolean } | undefined {
  if (given !== undefined && given !== null)
    return { value: given, given: true };
  if (!options.useDefaults) return undefined;
  if (parameter.default !== undefined && parameter.default !== null) {
    return { value: parameter.default, given: false };
  }
  // Valohai turns a multiple parameter's missing default into [] (listify).
  if (parameter.multiple !== 'none' && parameter.type !== 'flag') {
    return { value: [], given: false };
  }
  return undefined;
}

/** As `vh exec run` decides it: flags are always optional. */
function isRequired(parameter: Parameter): boolean {
  if (parameter.type === 'flag' || parameter.optional) return false;
  if (parameter.multiple !== 'none') return false;
  return parameter.default === undefined || parameter.default === null;
}
