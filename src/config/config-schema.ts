/**
 * The valohai.yaml format (as `valohai-yaml` 0.57's JSON schema has it) plus
 * kiln's own items and keys. Checked by check-schema.ts, printed by
 * `kiln schema` through to-json-schema.ts.
 */
import {
  anySpec,
  arraySpec,
  booleanSpec,
  enumSpec,
  integerSpec,
  numberSpec,
  objectSpec,
  oneOfSpec,
  stringOrListSpec,
  stringSpec,
} from './schema-spec.js';
import type { ObjectSpec, Spec } from './schema-spec.js';

const durationSpec = oneOfSpec(
  'an integer number of seconds or a duration string like "1h 30m"',
  [integerSpec(), stringSpec()],
);

const rangeSpec = (label: string, description: string): ObjectSpec =>
  objectSpec(label, {
    description,
    properties: { min: numberSpec(), max: numberSpec() },
  });

export const resourcesSpec = objectSpec('resources', {
  description: 'Resource requests and limits.',
  properties: {
    cpu: rangeSpec('cpu', 'vCPUs, e.g. 0.5 is half a core.'),
    memory: rangeSpec('memory', 'Megabytes.'),
    devices: objectSpec('devices', {
      description: "Devices, e.g. 'nvidia.com/gpu: 1'.",
      properties: {},
      additional: numberSpec({ minimum: 1 }),
    }),
  },
});

export const parameterSpec = objectSpec('parameter', {
  required: ['name'],
  properties: {
    name: stringSpec(),
    type: enumSpec(['flag', 'float', 'integer', 'string']),
    default: anySpec(),
    optional: booleanSpec(),
    description: stringSpec(),
    'pass-as': stringSpec(),
    'pass-true-as': stringSpec(),
    'pass-false-as': stringSpec(),
    choices: arraySpec(anySpec()),
    min: numberSpec(),
    max: numberSpec(),
    multiple: enumSpec(['none', 'repeat', 'separate']),
    'multiple-separator': stringSpec(),
    category: stringSpec(),
    widget: oneOfSpec('a string or a mapping with "type"', [
      stringSpec(),
      objectSpec('widget', {
        required: ['type'],
        properties: { type: stringSpec(), settings: anySpec() },
        additional: true,
      }),
    ]),
  },
});

export const inputSpec = objectSpec('input', {
  required: ['name'],
  properties: {
    name: stringSpec({ maxLength: 64 }),
    default: stringOrListSpec(),
    optional: booleanSpec(),
    description: stringSpec(),
    filename: stringSpec(),
    'keep-directories': oneOfSpec('a boolean or one of none, full, suffix', [
      booleanSpec(),
      enumSpec(['none', 'full', 'suffix']),
    ]),
    download: enumSpec(['always', 'on-demand']),
  },
});

export const outputSpec = objectSpec('output', {
  required: ['name'],
  properties: { name: stringSpec(), description: stringSpec() },
});

export const environmentVariableSpec = objectSpec('environment variable', {
  required: ['name'],
  properties: {
    name: stringSpec(),
    default: stringSpec(),
    description: stringSpec(),
    optional: booleanSpec(),
  },
});

export const mountSpec = oneOfSpec(
  'a "/source:/destination" string or a mapping',
  [
    stringSpec({ pattern: '^/.+:/.+$' }),
    objectSpec('mount', {
      required: ['source', 'destination'],
      properties: {
        source: stringSpec(),
        destination: stringSpec({ pattern: '^/.+$' }),
        readonly: booleanSpec(),
        type: stringSpec(),
        options: objectSpec('options', { properties: {}, additional: true }),
      },
    }),
  ],
);

export const stepSpec = objectSpec('step', {
  required: ['name', 'image', 'command'],
  properties: {
    name: stringSpec(),
    image: stringSpec(),
    command: stringOrListSpec(),
    description: stringSpec(),
    parameters: arraySpec(parameterSpec),
    inputs: arraySpec(inputSpec),
    outputs: arraySpec(outputSpec),
    environment: stringSpec(),
    'environment-variables': arraySpec(environmentVariableSpec),
    'environment-variable-groups': arraySpec(stringSpec()),
    mounts: arraySpec(mountSpec),
    'cache-volumes': arraySpec(stringSpec()),
    resources: resourcesSpec,
    'runtime-config-preset': stringSpec(),
    'time-limit': durationSpec,
    'no-output-timeout': durationSpec,
    'upload-store': stringSpec({ maxLength: 64 }),
    icon: stringSpec(),
    category: stringSpec(),
    'source-path': stringSpec(),
    'stop-condition': stringSpec(),
    network: booleanSpec(
      'kiln: give the container network access (default false).',
    ),
  },
});

const actionSpec = objectSpec('action', {
  required: ['when', 'then'],
  properties: {
    when: stringOrListSpec(),
    if: stringOrListSpec(),
    then: stringOrListSpec(),
  },
});

const overrideSpec = objectSpec('override', {
  properties: {
    command: stringOrListSpec(),
    image: stringSpec(),
    environment: stringSpec(),
    'environment-variables': arraySpec(environmentVariableSpec),
    inputs: arraySpec(inputSpec),
    mounts: arraySpec(mountSpec),
    parameters: arraySpec(parameterSpec),
    'runtime-config-preset': stringSpec(),
  },
});

function runNodeSpec(type: 'execution' | 'task'): ObjectSpec {
  const properties: Record<string, Spec> = {
    name: stringSpec(),
    type: enumSpec([type]),
    step: stringSpec(),
    override: overrideSpec,
    commit: stringSpec(),
    actions: arraySpec(actionSpec),
    'on-error': enumSpec(['stop-all', 'stop-next', 'continue', 'retry']),
    'edge-merge-mode': enumSpec(['replace', 'append']),
  };
  if (type === 'task') properties.task = stringSpec();
  return objectSpec(`${type} node`, {
    required: type === 'task' ? ['name', 'type'] : ['name', 'type', 'step'],
    properties,
  });
}

export const nodeSpec: Spec = {
  kind: 'tagged',
  tag: 'type',
  variants: {
    execution: runNodeSpec('execution'),
    task: runNodeSpec('task'),
    deployment: objectSpec('deployment node', {
      required: ['name', 'type', 'deployment'],
      properties: {
        name: stringSpec(),
        type: enumSpec(['deployment']),
        deployment: stringSpec(),
        endpoints: arraySpec(stringSpec()),
        aliases: arraySpec(stringSpec()),
        actions: arraySpec(actionSpec),
        'on-error': enumSpec(['stop-all', 'stop-next', 'continue']),
      },
    }),
  },
};

export const edgeSpec = oneOfSpec('a [source, target] pair or a mapping', [
  arraySpec(stringSpec()),
  objectSpec('edge', {
    required: ['source', 'target'],
    properties: {
      source: stringSpec(),
      target: stringSpec(),
      configuration: objectSpec('configuration', {
        properties: {},
        additional: true,
      }),
    },
  }),
]);

export const pipelineSpec = objectSpec('pipeline', {
  required: ['name', 'nodes', 'edges'],
  properties: {
    name: stringSpec(),
    nodes: arraySpec(nodeSpec),
    edges: arraySpec(edgeSpec),
    parameters: arraySpec(
      objectSpec('pipeline parameter', {
        properties: {
          name: stringSpec(),
          target: stringSpec(),
          targets: stringOrListSpec(),
          default: anySpec(),
          description: stringSpec(),
          category: stringSpec(),
        },
      }),
    ),
    'reuse-executions': booleanSpec(),
  },
});

export const taskSpec = objectSpec('task', {
  required: ['name', 'step'],
  properties: {
    name: stringSpec(),
    step: stringSpec(),
    type: stringSpec(),
    description: stringSpec(),
    parameters: arraySpec(
      objectSpec('variant parameter', {
        required: ['name', 'style', 'rules'],
        properties: {
          name: stringSpec(),
          style: enumSpec([
            'linear',
            'logspace',
            'multiple',
            'random',
            'single',
          ]),
          rules: objectSpec('rules', {
            properties: {
              base: numberSpec(),
              count: numberSpec(),
              distribution: stringSpec(),
              end: numberSpec(),
              integerify: booleanSpec(),
              items: arraySpec(anySpec()),
              max: numberSpec(),
              min: numberSpec(),
              numberify: booleanSpec(),
              seed: numberSpec(),
              start: numberSpec(),
              step: numberSpec(),
              value: anySpec(),
            },
          }),
        },
      }),
    ),
    'parameter-sets': arraySpec(
      objectSpec('parameter set', { properties: {}, additional: true }),
    ),
    'execution-count': integerSpec(),
    'execution-batch-size': integerSpec(),
    'maximum-queued-executions': integerSpec(),
    'optimization-target-metric': stringSpec(),
    'optimization-target-value': numberSpec(),
    engine: stringSpec(),
    'on-child-error': stringSpec(),
    'stop-condition': stringSpec(),
    'reuse-children': booleanSpec(),
  },
});

export const endpointSpec = objectSpec('endpoint', {
  required: ['name', 'image'],
  properties: {
    name: stringSpec({ pattern: '^[a-z][a-z0-9-]+$' }),
    image: stringSpec(),
    description: stringSpec(),
    wsgi: stringSpec(),
    'server-command': stringOrListSpec(),
    port: numberSpec({ minimum: 1025, maximum: 65535 }),
    files: arraySpec(
      objectSpec('file', {
        required: ['name', 'path'],
        properties: {
          name: stringSpec(),
          path: stringSpec(),
          description: stringSpec(),
        },
      }),
    ),
    resources: resourcesSpec,
    'node-selector': stringSpec({ pattern: '=' }),
    tolerations: arraySpec(
      objectSpec('toleration', {
        properties: {
          key: stringSpec(),
          operator: enumSpec(['Exists', 'Equal']),
          value: stringSpec(),
          effect: enumSpec(['PreferNoSchedule', 'NoSchedule', 'NoExecute']),
        },
      }),
    ),
  },
});

export const deploymentSpec = objectSpec('deployment', {
  required: ['name'],
  properties: {
    name: stringSpec(),
    defaults: objectSpec('defaults', {
      required: ['target'],
      properties: { target: stringSpec() },
      additional: true,
    }),
  },
});

export const triggerSpec = objectSpec('trigger', {
  description: 'kiln: what a push or a pull request runs.',
  required: ['name', 'run'],
  properties: {
    name: stringSpec(),
    on: arraySpec(enumSpec(['push', 'pull_request'])),
    branches: arraySpec(stringSpec()),
    paths: arraySpec(stringSpec()),
    run: stringSpec(),
    parameters: objectSpec('parameters', { properties: {}, additional: true }),
    'cancel-superseded': booleanSpec(),
  },
});

export const reportSpec = objectSpec('report', {
  description: 'kiln: metrics the pull request comment compares with the base.',
  required: ['metrics'],
  properties: {
    metrics: arraySpec(
      objectSpec('metric', {
        required: ['name', 'goal'],
        properties: {
          name: stringSpec(),
          goal: enumSpec(['maximize', 'minimize']),
          'fail-if-regresses-by': numberSpec({ minimum: 0 }),
        },
      }),
    ),
  },
});

/** Top-level item keys; `blueprint` is Valohai's old name for `pipeline`. */
export const itemSpecs: Record<string, ObjectSpec> = {
  step: stepSpec,
  pipeline: pipelineSpec,
  blueprint: pipelineSpec,
  task: taskSpec,
  endpoint: endpointSpec,
  deployment: deploymentSpec,
  trigger: triggerSpec,
  report: reportSpec,
};
