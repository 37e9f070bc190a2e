/**
 * Evaluates a pipeline action condition such as `metadata.drift <= 1` or
 * `parameter.mode == "fast"`: one comparison between a reference
 * (`metadata.KEY` / `parameter.NAME`) or a literal and another. Anything
 * else is reported, never evaluated as code.
 */
export interface ConditionContext {
  metadata: Record<string, unknown>;
  parameters: Record<string, unknown>;
}

export type ConditionResult =
  { ok: true; value: boolean } | { ok: false; message: string };

const COMPARISON = /^(.+?)\s*(<=|>=|==|!=|<|>)\s*(.+)$/;

export function evaluateCondition(
  expression: string,
  context: ConditionContext,
): ConditionResult {
  const match = COMPARISON.exec(expression.trim());
  if (!match) {
    return {
      ok: false,
      message: `can't read condition "${expression}": write it as "metadata.KEY <op> VALUE" with <, <=, >, >=, == or !=`,
    };
  }
  const [, leftText = '', op = '', rightText = ''] = match;
  const left = operand(leftText, context);
  const right = operand(rightText, context);
  if (!left.ok) return left;
  if (!right.ok) return right;
  if (left.value === undefined || right.value === undefined) {
    return { ok: true, value: false };
  }
  return { ok: true, value: compare(left.value, op, right.value) };
}

type Operand =
  | { ok: true; value: number | string | boolean | null | undefined }
  | { ok: false; message: string };

function operand(text: string, context: ConditionContext): Operand {
  const trimmed = text.trim();
  const reference = /^(metadata|parameter|parameters)\.(.+)$/.exec(trimmed);
  if (reference) {
    const [, scope, key = ''] = reference;
    const source = scope === 'metadata' ? context.metadata : context.parameters;
    const value = Object.hasOwn(source, key) ? source[key] : undefined;
    if (
      value === undefined ||
      value === null ||
      typeof value === 'number' ||
      typeof value === 'string' ||
      typeof value === 'boolean'
    ) {
      return { ok: true, value };
    }
    return { ok: true, value: String(value) };
  }
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(trimmed)) {
    return { ok: true, value: Number(trimmed) };
  }
  const quoted = /^(['"])(.*)\1$/.exec(trimmed);
  if (quoted) return { ok: true, value: quoted[2] ?? '' };
  if (/^(true|false|True|False)$/.test(trimmed)) {
    return { ok: true, value: trimmed.toLowerCase() === 'true' };
  }
  return {
    ok: false,
    message: `can't read "${trimmed}" in a condition: use metadata.KEY, parameter.NAME, a number or a quoted string`,
  };
}

function compare(
  left: number | string | boolean | null,
  op: string,
  right: number | string | boolean | null,
): boolean {
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  if (typeof left !== typeof right || left === null || right === null) {
    return false;
  }
  const a = left as number | string;
  const b = right as number | string;
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}
