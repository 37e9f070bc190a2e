import { describe, expect, it } from 'vitest';
import type { Config, Pipeline } from '../../../src/config/config-model.js';
import type { Finding } from '../../../src/config/finding.js';
import { planFile } from '../../../src/config/plan.js';
import { makeParameter, makeStep } from '../../helpers/config-builders.js';

function makeConfig(fields: Partial<Config>): Config {
  return {
    steps: [],
    pipelines: [],
    tasks: [],
    endpoints: [],
    deployments: [],
    triggers: [],
    reports: [],
    ...fields,
  };
}

function finding(severity: Finding['severity'], message: string): Finding {
  return {
    file: 'kiln.yaml',
    line: 3,
    column: 7,
    path: '0.step',
    severity,
    message,
  };
}

const pipeline: Pipeline = {
  name: 'p',
  nodes: [
    {
      name: 't',
      type: 'execution',
      step: 'train',
      actions: [],
      onError: 'stop-all',
      edgeMergeMode: 'replace',
    },
    {
      name: 's',
      type: 'task',
      task: 'sweep',
      actions: [],
      onError: 'stop-all',
      edgeMergeMode: 'replace',
    },
    {
      name: 'd',
      type: 'deployment',
      deployment: 'prod',
      actions: [],
      onError: 'stop-all',
      edgeMergeMode: 'replace',
    },
  ],
  edges: [
    {
      source: { node: 't', type: 'outputs', key: 'model.pb' },
      target: { node: 'd', type: 'file', key: 'model' },
    },
  ],
  parameters: [],
  reuseExecutions: false,
};

describe('planFile', () => {
  it('lists steps with their default commands and pipelines as written', () => {
    const step = makeStep({
      command: ['python train.py {parameters}'],
      parameters: [
        makeParameter({ name: 'lr', type: 'float', default: '1e-4' }),
        makeParameter({ name: 'fast', type: 'flag', default: true }),
      ],
    });
    const loaded = {
      config: makeConfig({ steps: [step], pipelines: [pipeline] }),
      findings: [finding('warning', 'unknown item "foo"')],
      plannable: true,
    };

    const plan = planFile(loaded);

    expect(plan).toEqual({
      valid: true,
      errors: [],
      warnings: ['kiln.yaml:3:7 warning: unknown item "foo"'],
      steps: [
        {
          name: 'train',
          image: 'python:3.12',
          command: ['python train.py --lr=0.0001 --fast'],
        },
      ],
      pipelines: [
        {
          name: 'p',
          nodes: [
            { name: 't', type: 'execution', step: 'train' },
            { name: 's', type: 'task', step: null, task: 'sweep' },
            { name: 'd', type: 'deployment', step: null, deployment: 'prod' },
          ],
          edges: [
            {
              source_node: 't',
              source_type: 'outputs',
              source_key: 'model.pb',
              target_node: 'd',
              target_type: 'file',
              target_key: 'model',
            },
          ],
        },
      ],
    });
  });

  it.each<[string, unknown]>([
    ['integer', '5.0'],
    ['integer', 'abc'],
    ['float', 'abc'],
    ['flag', 'maybe'],
  ])(
    'gives no command when a %s default %j cannot be converted',
    (type, value) => {
      const step = makeStep({
        parameters: [
          makeParameter({ name: 'n', type: type as 'integer', default: value }),
        ],
      });

      const plan = planFile({
        config: makeConfig({ steps: [step] }),
        findings: [],
        plannable: true,
      });

      expect(plan.steps).toEqual([
        { name: 'train', image: 'python:3.12', command: null },
      ]);
    },
  );

  it('is invalid with errors, and lists nothing when the file cannot be planned', () => {
    const loaded = {
      config: makeConfig({ steps: [makeStep()], pipelines: [pipeline] }),
      findings: [finding('error', 'mapping values are not allowed here')],
      plannable: false,
    };

    const plan = planFile(loaded);

    expect(plan).toEqual({
      valid: false,
      errors: ['kiln.yaml:3:7 error: mapping values are not allowed here'],
      warnings: [],
      steps: [],
      pipelines: [],
    });
  });

  it("stops building commands once a file's commands grow without bound", () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    const steps = Array.from({ length: 12 }, (_, index) =>
      makeStep({
        name: `s${index}`,
        command: ['echo {parameter-value:text}'],
        parameters: [makeParameter({ name: 'text', default: big })],
      }),
    );

    const plan = planFile({
      config: makeConfig({ steps }),
      findings: [],
      plannable: true,
    });

    expect(plan.steps.slice(0, 8).every((step) => step.command !== null)).toBe(
      true,
    );
    expect(plan.steps.slice(9).every((step) => step.command === null)).toBe(
      true,
    );
  });

  it('still lists steps of a plannable file with lint errors', () => {
    const loaded = {
      config: makeConfig({ steps: [makeStep({ command: ['echo hi'] })] }),
      findings: [finding('error', 'unknown socket type')],
      plannable: true,
    };

    const plan = planFile(loaded);

    expect(plan.valid).toBe(false);
    expect(plan.steps).toEqual([
      { name: 'train', image: 'python:3.12', command: ['echo hi'] },
    ]);
  });
});
