/**
 * Checks real API responses against the response schemas of
 * api/openapi.json (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses).
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const OPENAPI_PATH = new URL(
  '../../../api/openapi.json',
  import.meta.url,
);

const document = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
ajv.addSchema(document, 'openapi');

function pointer(part: string): string {
  return part.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Errors of `body` against the documented schema ([] when it matches). */
export function responseErrors(options: {
  path: string;
  method: string;
  status: number;
  body: unknown;
}): string[] {
  const operation = document.paths[options.path]?.[options.method];
  if (!operation)
    return [`${options.method} ${options.path} is not documented`];
  if (!operation.responses[String(options.status)]) {
    return [
      `status ${options.status} of ${options.method} ${options.path} is not documented`,
    ];
  }
  const ref = `openapi#/paths/${pointer(options.path)}/${options.method}/responses/${options.status}/content/${pointer('application/json')}/schema`;
  const validate = ajv.getSchema(ref);
  if (!validate) return [`no JSON schema at ${ref}`];
  if (validate(options.body)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath} ${error.message ?? ''}`,
  );
}
