/**
 * A task node's variant parameters once its values are known: the
 * blueprint's variants, with what the node receives on top — a value from
 * an edge (an upstream node's metadata or parameter), a pipeline parameter
 * or the run. A list given to a parameter that takes one value is swept,
 * one child per item (Valohai's dynamic fan-out: `[prepare.metadata.ids,
 * train.parameter.id]` with `ids` a list); a single value is fixed for
 * every child. Given values replace a blueprint variant of the same name.
 */
import type {
  Step,
  Task,
  VariantParameter,
} from '../../config/config-model.js';

export function taskVariantsOf(
  task: Pick<Task, 'parameters'>,
  step: Pick<Step, 'parameters'>,
  given: Readonly<Record<string, unknown>>,
): VariantParameter[] {
  const variants = new Map<string, VariantParameter>();
  for (const variant of task.parameters) variants.set(variant.name, variant);
  for (const [name, value] of Object.entries(given)) {
    const parameter = step.parameters.find((item) => item.name === name);
    if (!parameter) continue;
    const sweep =
      Array.isArray(value) &&
      (parameter.multiple === 'none' || parameter.type === 'flag');
    variants.set(
      name,
      sweep
        ? { name, style: 'multiple', rules: { items: value } }
        : { name, style: 'single', rules: { value } },
    );
  }
  return [...variants.values()];
}
