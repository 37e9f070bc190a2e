/**
 * Checks of a `task` item (a sweep) beyond its schema: its type and
 * on-child-error policy, its step and the parameters it varies, each
 * variant's rules (what kiln would refuse when the task starts, found at
 * push time instead), and Valohai's warnings (parameter-sets outside
 * manual_search, Bayesian-only keys).
 */
import type { Config } from './config-model.js';
import { formatSuggestion } from './closest-name.js';
import { isMapping, quoteName } from './describe-value.js';
import { addError, addWarning, type FindingSink } from './finding-sink.js';
import { lintExpression } from './lint-step.js';
import type { PathSegment } from './yaml-document.js';
import { TASK_TYPES } from '../orchestrator/task/expand-task-variants.js';
import { createSeededRandom } from '../orchestrator/task/seeded-random.js';
import { ON_CHILD_ERROR_POLICIES } from '../orchestrator/task/task-policy.js';
import { variantValues } from '../orchestrator/task/variant-values.js';

export function lintTask(
  sink: FindingSink,
  options: {
    raw: Record<string, unknown>;
    path: PathSegment[];
    config: Config;
  },
): void {
  const { raw, path, config } = options;
  const owner = `task ${quoteName(typeof raw.name === 'string' ? raw.name : '')}`;
  if (raw.parameters === undefined && raw['parameter-sets'] === undefined) {
    addError(sink, path, `${owner} needs "parameters" or "parameter-sets"`);
  }
  const step =
    typeof raw.step === 'string'
      ? config.steps.find((item) => item.name === raw.step)
      : undefined;
  if (typeof raw.step === 'string' && !step) {
    addWarning(
      sink,
      [...path, 'step'],
      `${owner} uses step ${quoteName(raw.step)}, which is not in this file${formatSuggestion(
        raw.step,
        config.steps.map((item) => item.name),
      )}`,
    );
  }
  if (
    typeof raw.name === 'string' &&
    config.steps.some((item) => item.name === raw.name)
  ) {
    addWarning(
      sink,
      [...path, 'name'],
      `${owner} has the name of a step: \`kiln run ${raw.name}\` and triggers run the step; rename the task to run it`,
    );
  }
  const type =
    typeof raw.type === 'string'
      ? raw.type.toLowerCase().replace(/-/g, '_')
      : 'grid_search';
  if (!(TASK_TYPES as readonly string[]).includes(type)) {
    addError(
      sink,
      [...path, 'type'],
      `"type" of ${owner} must be one of ${TASK_TYPES.join(', ')}, got ${quoteName(String(raw.type))}`,
    );
  }
  if (type !== 'bayesian_tpe') {
    for (const key of [
      'optimization-target-metric',
      'optimization-target-value',
      'engine',
    ]) {
      if (raw[key] !== undefined) {
        addWarning(
          sink,
          [...path, key],
          `"${key}" of ${owner} only applies to bayesian_tpe tasks`,
        );
      }
    }
  }
  if (raw['parameter-sets'] !== undefined && type !== 'manual_search') {
    addWarning(
      sink,
      [...path, 'parameter-sets'],
      `"parameter-sets" of ${owner} only make sense with type manual_search`,
    );
  }
  const policy = raw['on-child-error'];
  if (
    typeof policy === 'string' &&
    !(ON_CHILD_ERROR_POLICIES as readonly string[]).includes(
      policy.toLowerCase().replace(/_/g, '-'),
    )
  ) {
    addError(
      sink,
      [...path, 'on-child-error'],
      `"on-child-error" of ${owner} must be one of ${ON_CHILD_ERROR_POLICIES.join(', ')}, got ${quoteName(policy)}`,
    );
  }
  for (const key of [
    'execution-count',
    'execution-batch-size',
    'maximum-queued-executions',
  ]) {
    const value = raw[key];
    if (typeof value === 'number' && value < 1) {
      addError(sink, [...path, key], `"${key}" of ${owner} must be at least 1`);
    }
  }
  lintExpression(sink, {
    value: raw['stop-condition'],
    path: [...path, 'stop-condition'],
    what: `"stop-condition" of ${owner}`,
  });
  if (!Array.isArray(raw.parameters)) return;
  raw.parameters.forEach((item: unknown, index) => {
    if (!isMapping(item) || typeof item.name !== 'string') return;
    const where: PathSegment[] = [...path, 'parameters', index];
    if (step && !step.parameters.some((p) => p.name === item.name)) {
      addWarning(
        sink,
        [...where, 'name'],
        `${owner} varies ${quoteName(item.name)}, which is not a parameter of step ${quoteName(step.name)}${formatSuggestion(
          item.name,
          step.parameters.map((p) => p.name),
        )}`,
      );
    }
    if (typeof item.style !== 'string' || !isMapping(item.rules)) return;
    const values = variantValues(
      { name: item.name, style: item.style, rules: item.rules },
      createSeededRandom('lint'),
    );
    if (!values.ok) {
      addError(sink, where, `${owner}: ${values.message}`);
    }
  });
}
