/** api/openapi.json is a valid OpenAPI 3.1 document, and the server serves it. */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { readOpenApiText } from '../../../src/server/routes/api.js';
import { OPENAPI_PATH } from './openapi-check.js';

describe('api/openapi.json', () => {
  it('validates against the OpenAPI 3.1 schema', async () => {
    const validator = new Validator();
    const result = await validator.validate(
      JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as Parameters<
        Validator['validate']
      >[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is the document the server serves', () => {
    expect(readOpenApiText()).toBe(readFileSync(OPENAPI_PATH, 'utf8'));
  });

  it('documents every action as needing a token', () => {
    const document = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, unknown> }>
      >;
    };
    // A preview changes nothing: any token may ask for one.
    const posts = Object.entries(document.paths).filter(
      ([path, item]) => item.post && path !== '/api/runs/preview',
    );
    expect(posts.map(([path]) => path).sort()).toEqual([
      '/api/runs',
      '/api/runs/{id}/approve',
      '/api/runs/{id}/cancel',
      '/api/runs/{id}/rerun',
      '/api/tokens',
    ]);
    for (const [, item] of posts) {
      expect(Object.keys(item.post!.responses)).toEqual(
        expect.arrayContaining(['401', '403']),
      );
    }
  });
});
