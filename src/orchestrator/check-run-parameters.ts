/**
 * Checks launch parameters before a run is created, so a typo in
 * `--param lrr=0.1` fails at once with a hint instead of after a build.
 */
import type { Config } from '../config/config-model.js';
import { resolveParameterValues } from '../config/build-command.js';
import { applyOverride } from './apply-override.js';
import type { RunGraph } from './run-graph.js';

export function checkRunParameters(
  config: Config,
  graph: RunGraph,
  parameters: Record<string, unknown>,
): string[] {
  const problems: string[] = [];
  const known = new Set<string>();
  const pipelineParameters = graph.pipeline?.parameters ?? [];
  // A single step or task takes its step's parameter names as they are.
  const single = graph.kind !== 'pipeline';
  for (const parameter of pipelineParameters) known.add(parameter.name);
  for (const node of graph.nodes) {
    const base = config.steps.find((step) => step.name === node.step);
    if (!base) continue;
    const step = applyOverride(base, node.node?.override);
    const own: Record<string, unknown> = {};
    for (const parameter of step.parameters) {
      const dotted = `${node.name}.${parameter.name}`;
      known.add(dotted);
      if (single) known.add(parameter.name);
      if (Object.hasOwn(parameters, dotted))
        own[parameter.name] = parameters[dotted];
      else if (single && Object.hasOwn(parameters, parameter.name)) {
        own[parameter.name] = parameters[parameter.name];
      }
      // A list given to a task node's single-valued parameter is swept
      // (one child per value): each value is checked.
      if (
        node.type === 'task' &&
        parameter.multiple === 'none' &&
        Array.isArray(own[parameter.name])
      ) {
        const values = own[parameter.name] as unknown[];
        delete own[parameter.name];
        for (const value of values) {
          const { issues } = resolveParameterValues(
            step,
            { [parameter.name]: value },
            { useDefaults: true },
          );
          for (const issue of issues) {
            if (issue.kind === 'invalid') problems.push(issue.message);
          }
        }
      }
    }
    // Values arriving through edges are only known at run time, so missing
    // required values are checked when the node starts, not here.
    const { issues } = resolveParameterValues(step, own, { useDefaults: true });
    for (const issue of issues) {
      if (issue.kind === 'invalid') problems.push(issue.message);
    }
  }
  for (const name of Object.keys(parameters)) {
    if (!known.has(name)) {
      const hint =
        graph.kind === 'pipeline'
          ? ' (for a pipeline, name a pipeline parameter or NODE.PARAMETER)'
          : '';
      problems.push(
        `"${name}" is not a parameter of ${graph.kind} "${graph.name}"${hint}`,
      );
    }
  }
  return problems;
}
