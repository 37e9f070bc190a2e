/**
 * The JSON Schema (draft 2020-12) of the file format, generated from the
 * same specs the checker uses, for editors (YAML language server) and for
 * `kiln schema`.
 */
import { itemSpecs } from './config-schema.js';
import type { Spec } from './schema-spec.js';

type JsonSchema = Record<string, unknown>;

function withDescription(schema: JsonSchema, spec: Spec): JsonSchema {
  return spec.description === undefined
    ? schema
    : { ...schema, description: spec.description };
}

export function specToJsonSchema(spec: Spec): JsonSchema {
  switch (spec.kind) {
    case 'string': {
      const schema: JsonSchema = { type: 'string' };
      if (spec.maxLength !== undefined) schema.maxLength = spec.maxLength;
      if (spec.pattern !== undefined) schema.pattern = spec.pattern;
      return withDescription(schema, spec);
    }
    case 'integer':
    case 'number': {
      const schema: JsonSchema = { type: spec.kind };
      if (spec.minimum !== undefined) schema.minimum = spec.minimum;
      if (spec.maximum !== undefined) schema.maximum = spec.maximum;
      return withDescription(schema, spec);
    }
    case 'boolean':
      return withDescription({ type: 'boolean' }, spec);
    case 'any':
      return withDescription({}, spec);
    case 'enum':
      return withDescription({ type: 'string', enum: [...spec.values] }, spec);
    case 'array':
      return withDescription(
        { type: 'array', items: specToJsonSchema(spec.items) },
        spec,
      );
    case 'oneOf':
      return withDescription(
        { anyOf: spec.options.map((option) => specToJsonSchema(option)) },
        spec,
      );
    case 'tagged':
      return withDescription(
        {
          type: 'object',
          required: [spec.tag],
          anyOf: Object.values(spec.variants).map((variant) =>
            specToJsonSchema(variant),
          ),
        },
        spec,
      );
    case 'object': {
      const properties: Record<string, JsonSchema> = {};
      for (const [key, value] of Object.entries(spec.properties)) {
        properties[key] = specToJsonSchema(value);
      }
      const schema: JsonSchema = {
        type: 'object',
        title: spec.label,
        properties,
      };
      if (spec.required.length > 0) schema.required = [...spec.required];
      schema.additionalProperties =
        typeof spec.additional === 'boolean'
          ? spec.additional
          : specToJsonSchema(spec.additional);
      return withDescription(schema, spec);
    }
  }
}

/** The whole file: a list of one-key items. */
export function buildConfigJsonSchema(): JsonSchema {
  const itemProperties: Record<string, JsonSchema> = {};
  for (const [kind, spec] of Object.entries(itemSpecs)) {
    itemProperties[kind] = specToJsonSchema(spec);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/kiln/kiln/schemas/kiln.yaml.json',
    title: 'kiln.yaml (valohai.yaml format)',
    description:
      'A list of items: step, pipeline, task, endpoint, deployment (Valohai) and trigger, report (kiln).',
    type: 'array',
    items: {
      type: 'object',
      minProperties: 1,
      properties: itemProperties,
    },
  };
}
