/** The step item of the valohai.yaml format (valohai-yaml 0.57's schema) plus kiln's `network`. */
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
import type { ObjectSpec } from './schema-spec.js';

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
