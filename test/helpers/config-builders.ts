/**
 * Builders for normalised config objects, so unit tests state only the
 * fields that matter to them.
 */
import type { Parameter, Step } from '../../src/config/config-model.js';

export function makeParameter(
  fields: Partial<Parameter> & { name: string },
): Parameter {
  return {
    type: 'string',
    optional: false,
    multiple: 'none',
    multipleSeparator: ',',
    ...fields,
  };
}

export function makeStep(fields: Partial<Step> = {}): Step {
  return {
    name: 'train',
    image: 'python:3.12',
    command: ['python train.py {parameters}'],
    parameters: [],
    inputs: [],
    outputs: [],
    environmentVariables: [],
    environmentVariableGroups: [],
    mounts: [],
    cacheVolumes: [],
    network: false,
    ...fields,
  };
}
