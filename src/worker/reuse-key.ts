import { createHash } from 'node:crypto';
import type { InputFileRecord } from '../model/execution.js';
import { toJsonValue } from './container-contract.js';

/**
 * What makes two executions interchangeable for `reuse-executions`: the
 * same commit, image, step, resolved commands, parameters and input files
 * (by checksum), as Valohai decides it.
 */
export function reuseKey(options: {
  commit: string;
  image: string;
  step: string;
  commands: string[];
  parameters: Record<string, unknown>;
  inputs: InputFileRecord[];
}): string {
  const parameters = toJsonValue(options.parameters) as Record<string, unknown>;
  const canonical = JSON.stringify([
    options.commit,
    options.image,
    options.step,
    options.commands,
    Object.keys(parameters)
      .sort()
      .map((name) => [name, parameters[name]]),
    options.inputs
      .map((file) => [file.input, file.name, file.sha256])
      .sort((a, b) => a.join('/').localeCompare(b.join('/'))),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
