/**
 * A small declarative description of the file format. One description feeds
 * both the checker (findings with positions and readable messages) and the
 * JSON Schema that `kiln schema` prints, so the two never drift apart.
 */

export interface StringSpec {
  kind: 'string';
  maxLength?: number;
  /** Source of a regular expression the whole value must match. */
  pattern?: string;
  description?: string;
}

export interface NumberSpec {
  kind: 'integer' | 'number';
  minimum?: number;
  maximum?: number;
  description?: string;
}

export interface BooleanSpec {
  kind: 'boolean';
  description?: string;
}

export interface AnySpec {
  kind: 'any';
  description?: string;
}

export interface EnumSpec {
  kind: 'enum';
  values: readonly string[];
  description?: string;
}

export interface ArraySpec {
  kind: 'array';
  items: Spec;
  description?: string;
}

export interface ObjectSpec {
  kind: 'object';
  /** What the mapping is called in messages (`step`, `input`, …). */
  label: string;
  properties: Record<string, Spec>;
  required: readonly string[];
  /** `true`: any extra key; a spec: extra keys' values; `false`: none. */
  additional: boolean | Spec;
  description?: string;
}

/** Alternatives told apart by the value's basic type (string, list, …). */
export interface OneOfSpec {
  kind: 'oneOf';
  options: readonly Spec[];
  /** Used in `"x" must be LABEL`, e.g. `a string or a list of strings`. */
  label: string;
  description?: string;
}

/** Mappings told apart by a key's value (pipeline nodes by `type`). */
export interface TaggedSpec {
  kind: 'tagged';
  tag: string;
  variants: Record<string, ObjectSpec>;
  description?: string;
}

export type Spec =
  | StringSpec
  | NumberSpec
  | BooleanSpec
  | AnySpec
  | EnumSpec
  | ArraySpec
  | ObjectSpec
  | OneOfSpec
  | TaggedSpec;

export function stringSpec(options: Omit<StringSpec, 'kind'> = {}): StringSpec {
  return { kind: 'string', ...options };
}

export function integerSpec(
  options: Omit<NumberSpec, 'kind'> = {},
): NumberSpec {
  return { kind: 'integer', ...options };
}

export function numberSpec(options: Omit<NumberSpec, 'kind'> = {}): NumberSpec {
  return { kind: 'number', ...options };
}

export function booleanSpec(description?: string): BooleanSpec {
  return { kind: 'boolean', description };
}

export function anySpec(description?: string): AnySpec {
  return { kind: 'any', description };
}

export function enumSpec(
  values: readonly string[],
  description?: string,
): EnumSpec {
  return { kind: 'enum', values, description };
}

export function arraySpec(items: Spec, description?: string): ArraySpec {
  return { kind: 'array', items, description };
}

export function objectSpec(
  label: string,
  options: {
    properties: Record<string, Spec>;
    required?: readonly string[];
    additional?: boolean | Spec;
    description?: string;
  },
): ObjectSpec {
  return {
    kind: 'object',
    label,
    properties: options.properties,
    required: options.required ?? [],
    additional: options.additional ?? false,
    description: options.description,
  };
}

export function oneOfSpec(
  label: string,
  options: readonly Spec[],
  description?: string,
): OneOfSpec {
  return { kind: 'oneOf', label, options, description };
}

/** `string` or a list of strings, a pattern the format uses everywhere. */
export function stringOrListSpec(description?: string): OneOfSpec {
  return oneOfSpec(
    'a string or a list of strings',
    [stringSpec(), arraySpec(stringSpec())],
    description,
  );
}
