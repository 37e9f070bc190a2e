/** The pipeline item: nodes, edges, parameters (valohai-yaml 0.57's schema). */
import {
  anySpec,
  arraySpec,
  booleanSpec,
  enumSpec,
  objectSpec,
  oneOfSpec,
  stringOrListSpec,
  stringSpec,
} from './schema-spec.js';
import type { ObjectSpec, Spec } from './schema-spec.js';
import {
  environmentVariableSpec,
  inputSpec,
  mountSpec,
  parameterSpec,
} from './step-schema.js';

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
