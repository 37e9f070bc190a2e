/** Task, endpoint and deployment items (Valohai) and kiln's trigger and report items. */
import {
  anySpec,
  arraySpec,
  booleanSpec,
  enumSpec,
  integerSpec,
  numberSpec,
  objectSpec,
  stringOrListSpec,
  stringSpec,
} from './schema-spec.js';
import { resourcesSpec } from './step-schema.js';

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
  description: 'kiln: what a push, a pull request or a schedule runs.',
  required: ['name', 'run'],
  properties: {
    name: stringSpec(),
    schedule: objectSpec('schedule', {
      description:
        'kiln: run on a clock instead of on pushes and pull requests: the head of `branch` at each tick.',
      required: ['cron'],
      properties: {
        cron: stringSpec({
          description:
            'Cron expression: 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or @daily, @hourly…',
        }),
        timezone: stringSpec({
          description: 'IANA time zone of the cron expression (default UTC).',
        }),
        branch: stringSpec({
          description:
            "Branch whose head each tick runs (default: the repository's default branch).",
        }),
        missed: enumSpec(
          ['skip', 'run-once'],
          'Ticks missed while kiln was down: run once when it is back (run-once, the default) or skip them.',
        ),
      },
    }),
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
