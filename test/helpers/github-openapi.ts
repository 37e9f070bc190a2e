/**
 * GitHub's OpenAPI description (@octokit/openapi) as the stand-in uses it:
 * operations matched by method and path template, required query
 * parameters and JSON bodies validated with ajv. Parsed once per process.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);

// Kept for reference: 'node_modules/@octokit/openapi/generated/api.github.com.json';

export interface Operation {
  template: string;
  regex: RegExp;
  literalLength: number;
  method: string;
  requiredQuery: string[];
  hasBody: boolean;
  bodyRequired: boolean;
}

export interface Spec {
  operations: Operation[];
  validatorFor(operation: Operation): ValidateFunction;
}

let specCache: Spec | undefined;

/** Parsed once per process: the description is 13 MB. */
export function loadSpec(): Spec {
  if (specCache) return specCache;
  const file = require
    .resolve('@octokit/openapi/package.json')
    .replace(/package\.json$/, 'generated/api.github.com.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    paths: Record<string, Record<string, RawOperation>>;
    components: { parameters: Record<string, RawParameter> };
  };
  const ajv = new Ajv({
    strict: false,
    allErrors: false,
    validateSchema: false,
  });
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
  addFormats(ajv);
  ajv.addSchema(doc, 'gh');
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    const source = template
      .split('/')
      .map((part) =>
        part.startsWith('{')
          ? '[^/]+'
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    for (const method of ['get', 'post', 'patch', 'put', 'delete']) {
      const raw = item[method];
      if (!raw) continue;
      const parameters = [
        ...((item as { parameters?: RawParameter[] }).parameters ?? []),
        ...(raw.parameters ?? []),
      ].map((parameter) =>
        resolveParameter(parameter, doc.components.parameters),
      );
      operations.push({
        template,
        regex: new RegExp(`^${source}$`),
        literalLength: template.replace(/\{[^}]+\}/g, '').length,
        method: method.toUpperCase(),
        requiredQuery: parameters
          .filter((parameter) => parameter.in === 'query' && parameter.required)
          .map((parameter) => parameter.name ?? ''),
        hasBody: Boolean(raw.requestBody?.content?.['application/json']),
        bodyRequired: Boolean(raw.requestBody?.required),
      });
    }
  }
  const validators = new Map<string, ValidateFunction>();
  specCache = {
    operations,
    validatorFor(operation) {
      const key = `${operation.method} ${operation.template}`;
      let validate = validators.get(key);
      if (!validate) {
        const pointer = operation.template
          .replace(/~/g, '~0')
          .replace(/\//g, '~1');
        validate = ajv.compile({
          $ref: `gh#/paths/${encodeURIComponent(pointer)}/${operation.method.toLowerCase()}/requestBody/content/application~1json/schema`,
        });
        validators.set(key, validate);
      }
      return validate;
    },
  };
  return specCache;
}

interface RawParameter {
  $ref?: string;
  name?: string;
  in?: string;
  required?: boolean;
}

interface RawOperation {
  parameters?: RawParameter[];
  requestBody?: { required?: boolean; content?: Record<string, unknown> };
}

function resolveParameter(
  parameter: RawParameter,
  components: Record<string, RawParameter>,
): RawParameter {
  if (!parameter.$ref) return parameter;
  const name = parameter.$ref.split('/').at(-1) ?? '';
  return components[name] ?? parameter;
}

export function matchOperation(spec: Spec, method: string, path: string) {
  let best: Operation | undefined;
  for (const operation of spec.operations) {
    if (operation.method !== method || !operation.regex.test(path)) continue;
    if (!best || operation.literalLength > best.literalLength) best = operation;
  }
  return best;
}

export function validateRequest(
  spec: Spec,
  operation: Operation,
  request: { query: Record<string, string>; body: unknown },
) {
  for (const name of operation.requiredQuery) {
    if (request.query[name] === undefined)
      return `query parameter ${name} is required`;
  }
  if (request.body === undefined) {
    return operation.bodyRequired ? 'a JSON body is required' : undefined;
  }
  if (!operation.hasBody) return 'this operation takes no JSON body';
  const validate = spec.validatorFor(operation);
  if (validate(request.body)) return undefined;
  return (validate.errors ?? [])
    .map((error) => `body${error.instancePath} ${error.message ?? ''}`)
    .join('; ');
}
