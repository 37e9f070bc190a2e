import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfigJsonSchema } from '../../../src/config/config-json-schema.js';

type Schema = Record<string, unknown> & { properties?: Record<string, Schema> };

describe('buildConfigJsonSchema', () => {
  const schema = buildConfigJsonSchema() as Schema & { items: Schema };
  const items = schema.items.properties ?? {};

  it('is a draft 2020-12 schema of a list of items, kiln items included', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('array');
    expect(Object.keys(items).sort()).toEqual([
      'blueprint',
      'deployment',
      'endpoint',
      'pipeline',
      'report',
      'step',
      'task',
      'trigger',
    ]);
  });

  it('describes the step as the checker sees it', () => {
    const step = items.step as Schema;
    expect(step.required).toEqual(['name', 'image', 'command']);
    expect(step.additionalProperties).toBe(false);
    expect(step.properties?.network).toMatchObject({ type: 'boolean' });
    const inputs = step.properties?.inputs as Schema & { items: Schema };
    expect(inputs.items.properties?.name).toEqual({
      type: 'string',
      maxLength: 64,
    });
  });

  it('serialises to JSON', () => {
    expect(() => JSON.parse(JSON.stringify(schema))).not.toThrow();
  });
});

describe('docs/kiln.schema.json', () => {
  it('is the schema `kiln schema` prints (regenerate with kiln schema > docs/kiln.schema.json)', () => {
    const committed: unknown = JSON.parse(
      readFileSync(
        join(import.meta.dirname, '..', '..', '..', 'docs', 'kiln.schema.json'),
        'utf8',
      ),
    );
    expect(committed).toEqual(buildConfigJsonSchema());
  });
});
