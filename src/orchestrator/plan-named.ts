/**
 * The commands one step, pipeline or task of a file would run, with the
 * user's `--param` values applied: what `kiln plan NAME` shows.
 */
import { buildCommand } from '../config/build-command.js';
import type { Config, Pipeline, Step, Task } from '../config/config-model.js';
import { topologicalOrder } from '../config/pipeline-graph.js';
import { resolveParameterValues } from '../config/resolve-parameter-values.js';
import { applyOverride } from './apply-override.js';
import { proposeTaskBatch } from './task/propose-task-batch.js';
import { taskVariantsOf } from './task/task-variants-of.js';

export interface PlannedNode {
  name: string;
  type: 'execution' | 'task' | 'deployment';
  step?: string;
  image?: string;
  /** Resolved commands; undefined when the values have errors. */
  commands?: string[];
  /** Why there are no commands (deployment, pinned commit, …). */
  note?: string;
}

export interface NamedPlan {
  kind: 'step' | 'pipeline' | 'task';
  name: string;
  /** In topological order for a pipeline (file order if it has a cycle). */
  nodes: PlannedNode[];
  /** `node.type.key → node.type.key`. */
  edges: string[];
  /** Parameter problems, each saying how to fix it. */
  errors: string[];
}

/** Pure. undefined when the file has no step, pipeline or task of that name. */
export function planNamed(
  config: Config,
  name: string,
  overrides: Readonly<Record<string, string>>,
): NamedPlan | undefined {
  const pipeline = config.pipelines.find((item) => item.name === name);
  if (pipeline) return planPipelineNodes(config, pipeline, overrides);
  const step = config.steps.find((item) => item.name === name);
  if (!step) {
    const task = config.tasks.find((item) => item.name === name);
    return task ? planTaskChildren(config, task, overrides) : undefined;
  }
  const errors: string[] = [];
  const node = planStepNode(
    { name, type: 'execution' },
    step,
    overrides,
    errors,
  );
  return { kind: 'step', name, nodes: [node], edges: [], errors };
}

function planPipelineNodes(
  config: Config,
  pipeline: Pipeline,
  overrides: Readonly<Record<string, string>>,
): NamedPlan {
  const errors: string[] = [];
  const perNode = splitOverrides(pipeline, overrides, errors);
  const nodes = orderNodes(pipeline, errors).map((node): PlannedNode => {
    const base = { name: node.name, type: node.type };
    if (node.type === 'deployment') {
      return { ...base, note: `deployment ${node.deployment ?? '?'}` };
    }
    if (node.step === undefined) {
      return { ...base, note: `task blueprint ${node.task ?? '?'}` };
    }
    const step = config.steps.find((item) => item.name === node.step);
    if (!step) {
      const where = node.commit ? ` (pinned to ${node.commit})` : '';
      return {
        ...base,
        step: node.step,
        note: `step not in this file${where}`,
      };
    }
    const values = perNode.get(node.name) ?? {};
    const fed = edgeFedParameters(pipeline, node.name);
    const planned = planStepNode(
      base,
      markOptional(applyOverride(step, node.override), fed),
      values,
      errors,
    );
    if (fed.size === 0) return planned;
    const from = [...fed].map(([name, source]) => `${name} ← ${source}`);
    return { ...planned, note: `set at run time: ${from.join(', ')}` };
  });
  const edges = pipeline.edges.map(
    (edge) =>
      `${edge.source.node}.${edge.source.type}.${edge.source.key} → ${edge.target.node}.${edge.target.type}.${edge.target.key}`,
  );
  return { kind: 'pipeline', name: pipeline.name, nodes, edges, errors };
}

/**
 * A task's children with their commands: the task's variants over the
 * given values, expanded as a run expands them (a `bayesian_tpe` task: its
 * first, random batch). Random draws without a `seed` of their own differ
 * in every run.
 */
function planTaskChildren(
  config: Config,
  task: Task,
  overrides: Readonly<Record<string, string>>,
): NamedPlan {
  const errors: string[] = [];
  const plan: NamedPlan = {
    kind: 'task',
    name: task.name,
    nodes: [],
    edges: [],
    errors,
  };
  const step = config.steps.find((item) => item.name === task.step);
  if (!step) {
    errors.push(
      `task "${task.name}" runs step "${task.step}", which is not in the file`,
    );
    return plan;
  }
  const proposed = proposeTaskBatch({
    task,
    variants: taskVariantsOf(task, step, overrides),
    seed: `plan/${task.name}`,
    batch: 1,
    observations: [],
    created: 0,
  });
  if (!proposed.ok) {
    errors.push(`task "${task.name}": ${proposed.message}`);
    return plan;
  }
  plan.nodes = proposed.sets.map((set, index) =>
    planStepNode(
      { name: `${task.name}#${index + 1}`, type: 'task' },
      step,
      { ...overrides, ...set },
      errors,
    ),
  );
  return plan;
}

/** Parameters of `node` that an edge sets at run time, with their source. */
function edgeFedParameters(
  pipeline: Pipeline,
  node: string,
): Map<string, string> {
  const fed = new Map<string, string>();
  for (const { source, target } of pipeline.edges) {
    if (target.node !== node) continue;
    if (target.type !== 'parameter' && target.type !== 'parameters') continue;
    fed.set(target.key, `${source.node}.${source.type}.${source.key}`);
  }
  return fed;
}

/** A value that arrives through an edge is not missing at plan time. */
function markOptional(step: Step, fed: Map<string, string>): Step {
  if (fed.size === 0) return step;
  return {
    ...step,
    parameters: step.parameters.map((parameter) =>
      fed.has(parameter.name) ? { ...parameter, optional: true } : parameter,
    ),
  };
}

function planStepNode(
  base: Pick<PlannedNode, 'name' | 'type'>,
  step: Step,
  overrides: Readonly<Record<string, unknown>>,
  errors: string[],
): PlannedNode {
  const planned = { ...base, step: step.name, image: step.image };
  const resolved = resolveParameterValues(step, overrides, {
    useDefaults: true,
  });
  const prefix = base.name === step.name ? '' : `node "${base.name}": `;
  errors.push(...resolved.errors.map((message) => prefix + message));
  if (resolved.errors.length > 0) return planned;
  try {
    return { ...planned, commands: buildCommand(step, resolved.values) };
  } catch (error) {
    errors.push(prefix + (error as Error).message);
    return planned;
  }
}

/**
 * `NODE.PARAM=value` goes to that node; a pipeline parameter's value (or
 * default) goes to each of its targets, as the orchestrator delivers it.
 */
function splitOverrides(
  pipeline: Pipeline,
  overrides: Readonly<Record<string, string>>,
  errors: string[],
): Map<string, Record<string, unknown>> {
  const perNode = new Map<string, Record<string, unknown>>();
  const valuesOf = (node: string): Record<string, unknown> => {
    let values = perNode.get(node);
    if (!values) {
      values = Object.create(null) as Record<string, unknown>;
      perNode.set(node, values);
    }
    return values;
  };
  for (const parameter of pipeline.parameters) {
    const value = Object.hasOwn(overrides, parameter.name)
      ? overrides[parameter.name]
      : parameter.default;
    if (value === undefined || value === null) continue;
    for (const target of parameter.targets) {
      const [node = '', , key = ''] = target.split('.');
      valuesOf(node)[key] = value;
    }
  }
  const nodeNames = new Set(pipeline.nodes.map((node) => node.name));
  for (const [name, value] of Object.entries(overrides)) {
    if (pipeline.parameters.some((parameter) => parameter.name === name)) {
      continue;
    }
    const dot = name.indexOf('.');
    const node = dot > 0 ? name.slice(0, dot) : '';
    if (!nodeNames.has(node)) {
      errors.push(
        `pipeline "${pipeline.name}" has no parameter "${name}"; give NODE.PARAM (nodes: ${[...nodeNames].join(', ')})${describePipelineParameters(pipeline)}`,
      );
      continue;
    }
    valuesOf(node)[name.slice(dot + 1)] = value;
  }
  return perNode;
}

function describePipelineParameters(pipeline: Pipeline): string {
  if (pipeline.parameters.length === 0) return '';
  return ` or a pipeline parameter (${pipeline.parameters.map((parameter) => parameter.name).join(', ')})`;
}

function orderNodes(pipeline: Pipeline, errors: string[]): Pipeline['nodes'] {
  try {
    const byName = new Map(pipeline.nodes.map((node) => [node.name, node]));
    return topologicalOrder(pipeline).flatMap((name) => {
      const node = byName.get(name);
      return node ? [node] : [];
    });
  } catch (error) {
    errors.push((error as Error).message);
    return pipeline.nodes;
  }
}
