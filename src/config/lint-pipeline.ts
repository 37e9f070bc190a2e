/** Checks of one pipeline beyond its schema: nodes, actions, edges, graph. */
import type { Pipeline, Step } from './config-model.js';
import { formatSuggestion } from './closest-name.js';
import { isMapping, quoteName } from './describe-value.js';
import { addAdvice, addError, addWarning } from './finding-sink.js';
import type { FindingSink } from './finding-sink.js';
import { lintEdges, lintPipelineParameters } from './lint-edges.js';
import type { NodeTable } from './lint-edges.js';
import { lintExpression, lintPathName, lintStepLike } from './lint-step.js';
import { normalizeOverride } from './normalize-step.js';
import { findCycles, findUnconnectedNodes } from './pipeline-graph.js';
import { readStringList } from './read-field.js';
import type { PathSegment } from './yaml-document.js';

/** Names a pipeline may refer to (after duplicates were merged). */
export interface PipelineContext {
  steps: Map<string, Step>;
  tasks: Set<string>;
}

const knownWhen = ['node-starting', 'node-complete', 'node-error'];
// Valohai's linter knows the first three; kiln implements require-approval.
const knownThen = [
  'stop-pipeline',
  'error-pipeline',
  'noop',
  'require-approval',
];

function lintActions(
  sink: FindingSink,
  options: { actions: unknown; path: PathSegment[]; owner: string },
): void {
  if (!Array.isArray(options.actions)) return;
  options.actions.forEach((action: unknown, index) => {
    if (!isMapping(action)) return;
    const path = [...options.path, index];
    for (const [key, known] of [
      ['when', knownWhen],
      ['then', knownThen],
    ] as const) {
      for (const value of readStringList(action[key])) {
        // valohai-yaml lower-cases "when" values before comparing.
        if (!known.includes(key === 'when' ? value.toLowerCase() : value)) {
          addWarning(
            sink,
            [...path, key],
            `action "${key}" value ${quoteName(value)} of ${options.owner} is not known (known: ${known.join(', ')})${formatSuggestion(value, known)}`,
          );
        }
      }
    }
    for (const condition of readStringList(action.if)) {
      lintExpression(sink, {
        value: condition,
        path: [...path, 'if'],
        what: `action "if" of ${options.owner}`,
        severity: 'warning',
      });
    }
  });
}

/** Looks up the step a node runs, reporting references that do not exist. */
function resolveNodeStep(
  sink: FindingSink,
  options: {
    node: Record<string, unknown>;
    path: PathSegment[];
    owner: string;
    context: PipelineContext;
  },
): Step | undefined {
  const { node, path, owner, context } = options;
  if (node.type === 'deployment' || typeof node.commit === 'string')
    return undefined;
  const stepNames = [...context.steps.keys()];
  if (node.type === 'task') {
    if (node.step !== undefined && node.task !== undefined) {
      addWarning(
        sink,
        path,
        `${owner} names both "step" and "task"; the task is used`,
      );
    } else if (node.step === undefined && node.task === undefined) {
      addWarning(
        sink,
        path,
        `${owner} names neither a "step" nor a "task", so it cannot run`,
      );
    }
    if (typeof node.task === 'string' && !context.tasks.has(node.task)) {
      addError(
        sink,
        [...path, 'task'],
        `${owner} uses task ${quoteName(node.task)}, which does not exist${formatSuggestion(node.task, [...context.tasks])}`,
      );
    }
  }
  if (typeof node.step !== 'string') return undefined;
  const step = context.steps.get(node.step);
  if (step === undefined) {
    addError(
      sink,
      [...path, 'step'],
      `${owner} uses step ${quoteName(node.step)}, which does not exist${formatSuggestion(node.step, stepNames)}`,
    );
    return undefined;
  }
  if (!isMapping(node.override)) return step;
  // Edges may target inputs and parameters that only the override declares.
  const override = normalizeOverride(node.override);
  return {
    ...step,
    inputs: [...step.inputs, ...(override.inputs ?? [])],
    parameters: [...step.parameters, ...(override.parameters ?? [])],
  };
}

/** A pipeline's nodes at most (reliability plan L5 runs 500). */
export const MAX_PIPELINE_NODES = 1_000;

/** Returns false when an edge is not well formed (the file is then not plannable). */
export function lintPipeline(
  sink: FindingSink,
  options: {
    raw: Record<string, unknown>;
    path: PathSegment[];
    pipeline: Pipeline;
    context: PipelineContext;
  },
): boolean {
  const { raw, path, pipeline, context } = options;
  const where = `pipeline ${quoteName(pipeline.name)}`;
  const nodes: NodeTable = {
    pipeline: pipeline.name,
    steps: new Map(),
    executionSteps: new Map(),
  };
  const nodePaths = new Map<string, PathSegment[]>();
  if (Array.isArray(raw.nodes) && raw.nodes.length > MAX_PIPELINE_NODES) {
    // Checked before the graph is built and walked: its work grows with them.
    addError(
      sink,
      [...path, 'nodes'],
      `${where} has ${raw.nodes.length} nodes; kiln runs pipelines of up to ${MAX_PIPELINE_NODES} nodes`,
    );
    return false;
  }
  if (
    typeof pipeline.name === 'string' &&
    pipeline.name.trim() === '' &&
    raw.name !== undefined
  ) {
    addError(
      sink,
      [...path, 'name'],
      'the pipeline name is empty; give the pipeline a name (runs are named after it)',
    );
  }
  if (Array.isArray(raw.nodes)) {
    raw.nodes.forEach((node: unknown, index) => {
      if (!isMapping(node)) return;
      const nodePath = [...path, 'nodes', index];
      const name = typeof node.name === 'string' ? node.name : '';
      const owner = `node ${quoteName(name)} in ${where}`;
      if (nodes.steps.has(name)) {
        addError(
          sink,
          [...nodePath, 'name'],
          `${where} has two nodes named ${quoteName(name)}; node names must be unique`,
        );
      }
      lintPathName(sink, {
        name: node.name,
        path: [...nodePath, 'name'],
        what: 'node',
      });
      nodes.steps.set(
        name,
        resolveNodeStep(sink, { node, path: nodePath, owner, context }),
      );
      const baseStep = context.steps.get(String(node.step));
      if (node.type === 'execution' && baseStep !== undefined) {
        nodes.executionSteps.set(name, baseStep);
      }
      nodePaths.set(name, nodePath);
      lintActions(sink, {
        actions: node.actions,
        path: [...nodePath, 'actions'],
        owner,
      });
      if (isMapping(node.override)) {
        lintStepLike(sink, {
          raw: {
            ...node.override,
            environment:
              node.override.environment ??
              context.steps.get(String(node.step))?.environment,
          },
          path: [...nodePath, 'override'],
          owner,
        });
      }
    });
  }
  const wellFormed = lintEdges(sink, {
    edges: raw.edges,
    path: [...path, 'edges'],
    nodes,
  });
  lintPipelineParameters(sink, {
    parameters: raw.parameters,
    path: [...path, 'parameters'],
    nodes,
  });
  for (const cycle of findCycles(pipeline)) {
    addAdvice(
      sink,
      nodePaths.get(cycle[0] ?? '') ?? path,
      `${where} has a cycle through nodes ${cycle.map(quoteName).join(', ')}; kiln will not run it until an edge is removed`,
    );
  }
  for (const name of findUnconnectedNodes(pipeline)) {
    addAdvice(
      sink,
      nodePaths.get(name) ?? path,
      `node ${quoteName(name)} in ${where} has no edges; it runs on its own`,
    );
  }
  if (pipeline.nodes.length === 0)
    addWarning(sink, [...path, 'nodes'], `${where} has no nodes`);
  return wellFormed;
}
