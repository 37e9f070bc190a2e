/**
 * Valohai's container contract, so code written for Valohai (and
 * valohai-utils) runs unchanged: the repository at /valohai/repository
 * (working dir), inputs at /valohai/inputs/<name>/<file>, outputs collected
 * from /valohai/outputs, configuration in /valohai/config as JSON and YAML,
 * and the VH_* environment variables.
 */
import { stringify } from 'yaml';
import { PyFloat, PyTimestamp } from '../config/py-scalars.js';
import { stringifyExactJson } from '../config/stringify-exact-json.js';
import type { InputFileRecord } from '../model/execution.js';

export const CONTAINER_PATHS = {
  root: '/valohai',
  repository: '/valohai/repository',
  inputs: '/valohai/inputs',
  outputs: '/valohai/outputs',
  config: '/valohai/config',
} as const;

export interface ContractOptions {
  executionId: string;
  counter: number;
  commit: string;
  step: string;
  image: string;
  repository: string;
  createdAt: string;
  runId?: string;
  runCounter?: number;
  parameters: Record<string, unknown>;
  inputs: InputFileRecord[];
}

/**
 * Converts values read from YAML to plain JSON (floats as numbers) for
 * kiln's own records; an int beyond 2^53 becomes its decimal text, which a
 * JSON reader (JavaScript's included) keeps exactly.
 */
export function toJsonValue(value: unknown): unknown {
  return toPlainValue(value, (big) => big.toString());
}

/** `toJsonValue` with a `keep` for bigints (the config files keep them). */
function toPlainValue(value: unknown, keep: (big: bigint) => unknown): unknown {
  if (typeof value === 'bigint') return keep(value);
  if (value instanceof PyFloat) {
    return Number.isFinite(value.value) ? value.value : null;
  }
  if (value instanceof PyTimestamp) return value.text;
  if (Array.isArray(value)) {
    return value.map((item) => toPlainValue(item, keep));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, {
        value: toPlainValue(item, keep),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** The files of /valohai/config: name → content. */
export function buildConfigFiles(
  options: ContractOptions,
): Record<string, string> {
  const execution: Record<string, unknown> = {
    'valohai.commit-identifier': options.commit,
    'valohai.creator-id': null,
    'valohai.creator-name': null,
    'valohai.creator-email': null,
    'valohai.environment-id': null,
    'valohai.environment-name': null,
    'valohai.environment-slug': null,
    'valohai.execution-counter': options.counter,
    'valohai.execution-ctime': options.createdAt,
    'valohai.execution-duration': null,
    'valohai.execution-id': options.executionId,
    'valohai.execution-image': options.image,
    'valohai.execution-qtime': null,
    'valohai.execution-status': 'started',
    'valohai.execution-step': options.step,
    'valohai.execution-tags': [],
    'valohai.execution-title': null,
    'valohai.project-id': options.repository,
    'valohai.project-name': options.repository,
  };
  if (options.runId) {
    execution['valohai.pipeline-id'] = options.runId;
    execution['valohai.pipeline-counter'] = options.runCounter ?? null;
  }
  // Ints beyond 2^53 stay exact: a JSON number with every digit.
  const parameters = toPlainValue(options.parameters, (big) => big);
  const inputs: Record<string, { files: unknown[] }> = {};
  for (const file of options.inputs) {
    const entry = (inputs[file.input] ??= { files: [] });
    entry.files.push({
      name: file.name,
      path: `${CONTAINER_PATHS.inputs}/${file.input}/${file.name}`,
      size: file.size,
      uri: file.uri,
      checksums: { sha256: file.sha256 },
    });
  }
  const files: Record<string, string> = {};
  for (const [name, value] of Object.entries({
    execution,
    parameters,
    inputs,
  })) {
    files[`${name}.json`] = `${stringifyExactJson(value)}\n`;
    files[`${name}.yaml`] = stringify(value);
  }
  return files;
}

/** The VH_* variables and the rest of the environment every step gets. */
export function buildContractEnv(executionId: string): Record<string, string> {
  return {
    VH_CONFIG_DIR: CONTAINER_PATHS.config,
    VH_INPUTS_DIR: CONTAINER_PATHS.inputs,
    VH_OUTPUTS_DIR: CONTAINER_PATHS.outputs,
    VH_REPOSITORY_DIR: CONTAINER_PATHS.repository,
    VH_JOB_ID: executionId,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}
