import { describe, expect, it } from 'vitest';
import {
  EnvironmentsFileError,
  parseEnvironments,
  pickPlacement,
} from '../../../../src/runtime/kubernetes/load-environments.js';

const FILE = `
environments:
  gpu:
    nodeSelector: { pool: gpu }
    tolerations: [{ key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }]
  cpu:
    nodeSelector: { pool: cpu }
default: cpu
`;

describe('parseEnvironments / pickPlacement', () => {
  it('maps a step environment to its placement, and no environment to the default', () => {
    const environments = parseEnvironments(FILE, 'envs.yaml');

    expect(pickPlacement(environments, 'gpu')).toEqual({
      ok: true,
      placement: {
        nodeSelector: { pool: 'gpu' },
        tolerations: [
          { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
        ],
      },
    });
    expect(pickPlacement(environments, undefined)).toEqual({
      ok: true,
      placement: { nodeSelector: { pool: 'cpu' } },
    });
  });

  it('refuses an environment the file does not list, naming the known ones', () => {
    const picked = pickPlacement(parseEnvironments(FILE, 'envs.yaml'), 'tpu');

    expect(picked).toEqual({
      ok: false,
      problem:
        'the step\'s environment "tpu" is not in the environments file envs.yaml (known: gpu, cpu) — add it there or change the step\'s environment',
    });
  });

  it('places anywhere without a file', () => {
    expect(pickPlacement(undefined, 'gpu')).toEqual({
      ok: true,
      placement: {},
    });
  });

  it.each([
    ['environments: [1]', 'not valid'],
    ['environments: { a: { nodeSelectr: {} } }', 'nodeSelectr'],
    [
      'environments: { a: { tolerations: [{ tolerationSeconds: soon }] } }',
      'environment "a" in f.yaml: tolerations[0]',
    ],
    ['environments: { a: {} }\ndefault: b', 'names default "b"'],
    ['environments: {', 'not valid YAML'],
  ])('reports %j with the file and what is wrong', (text, problem) => {
    expect(() => parseEnvironments(text, 'f.yaml')).toThrow(
      EnvironmentsFileError,
    );
    expect(() => parseEnvironments(text, 'f.yaml')).toThrow(problem);
  });
});
