/**
 * Checks a read YAML value against a Spec (schema-spec.ts), reporting every
 * mismatch as an error finding with a message a person can act on.
 */
import { formatSuggestion } from './closest-name.js';
import {
  describeValue,
  isMapping,
  quoteName,
  readRawScalar,
} from './describe-value.js';
import { addError, addFinding } from './finding-sink.js';
import type { FindingSink } from './finding-sink.js';
import { PyFloat } from './py-scalars.js';
import type { ObjectSpec, OneOfSpec, Spec, TaggedSpec } from './schema-spec.js';
import type { PathSegment } from './yaml-document.js';

export interface SchemaCheck {
  sink: FindingSink;
  /** Counts the errors found, so callers know whether the shape is usable. */
  errors: number;
}

/** What the enclosing mapping is called: `input "data" in step "train"`. */
type Owner = string | undefined;

function fieldName(path: readonly PathSegment[]): string {
  for (let index = path.length - 1; index >= 0; index -= 1) {
    const segment = path[index];
    if (typeof segment === 'string') {
      return index === path.length - 1
        ? `"${segment}"`
        : `each item of "${segment}"`;
    }
  }
  return 'the file';
}

function fail(
  check: SchemaCheck,
  path: readonly PathSegment[],
  message: string,
): void {
  check.errors += 1;
  addError(check.sink, path, message);
}

function typeError(
  check: SchemaCheck,
  path: readonly PathSegment[],
  expected: string,
  value: unknown,
): void {
  const raw = readRawScalar(
    check.sink.text,
    check.sink.positions.valueAt(path),
  );
  fail(
    check,
    path,
    `${fieldName(path)} must be ${expected}, got ${describeValue(value, raw)}`,
  );
}

function basicMatch(spec: Spec, value: unknown): boolean {
  switch (spec.kind) {
    case 'string':
    case 'enum':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' || typeof value === 'bigint';
    case 'number':
      return (
        typeof value === 'number' ||
        typeof value === 'bigint' ||
        value instanceof PyFloat
      );
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
    case 'tagged':
      return isMapping(value);
    case 'oneOf':
      return spec.options.some((option) => basicMatch(option, value));
    case 'any':
      return true;
  }
}

const expectedText: Record<string, string> = {
  string: 'a string',
  enum: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  array: 'a list',
  object: 'a mapping',
  tagged: 'a mapping',
};

function checkNumberRange(
  check: SchemaCheck,
  spec: { minimum?: number; maximum?: number },
  path: readonly PathSegment[],
  value: number | bigint,
): void {
  if (spec.minimum !== undefined && value < spec.minimum) {
    fail(
      check,
      path,
      `${fieldName(path)} must be at least ${spec.minimum}, got ${value}`,
    );
  }
  if (spec.maximum !== undefined && value > spec.maximum) {
    fail(
      check,
      path,
      `${fieldName(path)} must be at most ${spec.maximum}, got ${value}`,
    );
  }
}

function checkString(
  check: SchemaCheck,
  spec: { maxLength?: number; pattern?: string },
  path: readonly PathSegment[],
  value: string,
): void {
  if (spec.maxLength !== undefined && value.length > spec.maxLength) {
    fail(
      check,
      path,
      `${fieldName(path)} must be at most ${spec.maxLength} characters, got ${value.length}`,
    );
  }
  if (
    spec.pattern !== undefined &&
    !new RegExp(spec.pattern, 'u').test(value)
  ) {
    fail(
      check,
      path,
      `${fieldName(path)} must match the pattern ${spec.pattern}, got ${quoteName(value)}`,
    );
  }
}

function ownerOf(
  spec: ObjectSpec,
  value: Record<string, unknown>,
  parent: Owner,
): string {
  const name =
    typeof value.name === 'string' ? ` ${quoteName(value.name)}` : '';
  return parent === undefined
    ? `${spec.label}${name}`
    : `${spec.label}${name} in ${parent}`;
}

function checkObject(
  check: SchemaCheck,
  spec: ObjectSpec,
  path: readonly PathSegment[],
  value: Record<string, unknown>,
  parent: Owner,
): void {
  const owner = ownerOf(spec, value, parent);
  const known = Object.keys(spec.properties);
  for (const key of spec.required) {
    if (!Object.hasOwn(value, key))
      fail(check, path, `${owner} is missing "${key}"`);
  }
  for (const key of Object.keys(value)) {
    const childPath = [...path, key];
    const property = Object.hasOwn(spec.properties, key)
      ? spec.properties[key]
      : undefined;
    if (property !== undefined) {
      checkSpec(check, property, childPath, value[key], owner);
    } else if (spec.additional === false) {
      check.errors += 1;
      addFinding(check.sink, {
        path: childPath,
        severity: 'error',
        atKey: true,
        message: `unknown key ${quoteName(key)} in ${owner}${formatSuggestion(key, known)}`,
      });
    } else if (spec.additional !== true) {
      checkSpec(check, spec.additional, childPath, value[key], owner);
    }
  }
}

function checkOneOf(
  check: SchemaCheck,
  spec: OneOfSpec,
  path: readonly PathSegment[],
  value: unknown,
  parent: Owner,
): void {
  const option = spec.options.find((candidate) => basicMatch(candidate, value));
  if (option === undefined) typeError(check, path, spec.label, value);
  else checkSpec(check, option, path, value, parent);
}

function checkTagged(
  check: SchemaCheck,
  spec: TaggedSpec,
  path: readonly PathSegment[],
  value: Record<string, unknown>,
  parent: Owner,
): void {
  const tag = value[spec.tag];
  const variants = Object.keys(spec.variants);
  if (typeof tag === 'string' && Object.hasOwn(spec.variants, tag)) {
    const variant = spec.variants[tag];
    if (variant !== undefined) checkObject(check, variant, path, value, parent);
    return;
  }
  const name =
    typeof value.name === 'string' ? ` ${quoteName(value.name)}` : '';
  const where = `node${name}${parent === undefined ? '' : ` in ${parent}`}`;
  if (tag === undefined) {
    fail(
      check,
      path,
      `${where} is missing "${spec.tag}" (one of ${variants.join(', ')})`,
    );
    return;
  }
  const raw = readRawScalar(
    check.sink.text,
    check.sink.positions.valueAt([...path, spec.tag]),
  );
  fail(
    check,
    [...path, spec.tag],
    `"${spec.tag}" of ${where} must be one of ${variants.join(', ')}, got ${describeValue(tag, raw)}`,
  );
}

/** Checks `value` (found at `path`) against `spec`, recursing into it. */
export function checkSpec(
  check: SchemaCheck,
  spec: Spec,
  path: readonly PathSegment[],
  value: unknown,
  parent?: Owner,
): void {
  if (spec.kind === 'any') return;
  if (spec.kind === 'oneOf') {
    checkOneOf(check, spec, path, value, parent);
    return;
  }
  if (!basicMatch(spec, value)) {
    typeError(check, path, expectedText[spec.kind] ?? spec.kind, value);
    return;
  }
  switch (spec.kind) {
    case 'string':
      checkString(check, spec, path, value as string);
      return;
    case 'enum':
      if (!spec.values.includes(value as string)) {
        fail(
          check,
          path,
          `${fieldName(path)} must be one of ${spec.values.join(', ')}, got ${quoteName(value as string)}${formatSuggestion(value as string, spec.values)}`,
        );
      }
      return;
    case 'integer':
    case 'number':
      checkNumberRange(
        check,
        spec,
        path,
        value instanceof PyFloat ? value.value : (value as number | bigint),
      );
      return;
    case 'array':
      (value as unknown[]).forEach((item, index) => {
        checkSpec(check, spec.items, [...path, index], item, parent);
      });
      return;
    case 'object':
      checkObject(check, spec, path, value as Record<string, unknown>, parent);
      return;
    case 'tagged':
      checkTagged(check, spec, path, value as Record<string, unknown>, parent);
      return;
    default:
      return;
  }
}
