/** `--param name=value` pairs → a map; the value is kept as text (the step's type converts it). */
import { KilnError } from '../errors.js';
export class ParamSyntaxError extends KilnError {
  readonly code = 'PARAM_SYNTAX';
  constructor(pair: string) {
    super(`--param "${pair}" is not NAME=VALUE (e.g. --param lr=0.01)`);
  }
}

export function parseParamPairs(
  pairs: readonly string[],
): Record<string, string> {
  const values: Record<string, string> = Object.create(null);
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new ParamSyntaxError(pair);
    values[pair.slice(0, equals).trim()] = pair.slice(equals + 1);
  }
  return values;
}
