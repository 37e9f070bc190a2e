/**
 * A pipeline node's `override` applied to its step: scalar fields replace,
 * lists of named items (parameters, inputs, environment variables) merge by
 * name onto the step's, as Valohai merges them.
 */
import type { Step, StepOverride } from '../config/config-model.js';

export function applyOverride(step: Step, override?: StepOverride): Step {
  if (!override) return step;
  return {
    ...step,
    command: override.command ?? step.command,
    image: override.image ?? step.image,
    environment: override.environment ?? step.environment,
    runtimeConfigPreset:
      override.runtimeConfigPreset ?? step.runtimeConfigPreset,
    mounts: override.mounts ?? step.mounts,
    parameters: mergeByName(step.parameters, override.parameters),
    inputs: mergeByName(step.inputs, override.inputs),
    environmentVariables: mergeByName(
      step.environmentVariables,
      override.environmentVariables,
    ),
  };
}

function mergeByName<T extends { name: string }>(
  base: T[],
  changes: T[] | undefined,
): T[] {
  if (!changes || changes.length === 0) return base;
  const merged = base.map((item) => {
    const change = changes.find((candidate) => candidate.name === item.name);
    return change ? { ...item, ...change } : item;
  });
  for (const change of changes) {
    if (!base.some((item) => item.name === change.name)) merged.push(change);
  }
  return merged;
}
