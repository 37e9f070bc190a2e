/**
 * What a pipeline node receives before it starts: parameter values and input
 * URIs from its own step, from pipeline parameters and run overrides, and
 * from the edges of the nodes upstream (output → input as `datum://` URIs,
 * input → input, parameter → parameter, metadata → parameter).
 */
import type { Pipeline, Step } from '../config/config-model.js';
import { matchGlob } from '../config/match-glob.js';
import type { ExecutionRecord } from '../model/execution.js';
import type { RunGraphNode } from './run-graph.js';

export interface ResolveNodeValuesOptions {
  node: RunGraphNode;
  step: Step;
  pipeline?: Pipeline;
  /** Overrides of the run: pipeline parameter names, `node.param`, or step parameter names. */
  runParameters: Record<string, unknown>;
  /** Finished executions of upstream nodes, by node name. */
  upstream: ReadonlyMap<string, ExecutionRecord>;
}

export interface NodeValues {
  /** Values to override the step's defaults with (raw, unconverted). */
  parameters: Record<string, unknown>;
  /** Input name → URIs. Inputs not listed keep their defaults. */
  inputs: Record<string, string[]>;
  /** Edges that could not deliver anything, for the node's log. */
  notes: string[];
}

export function resolveNodeValues(
  options: ResolveNodeValuesOptions,
): NodeValues {
  const { node, step, pipeline, runParameters, upstream } = options;
  const parameters: Record<string, unknown> = Object.create(null);
  const inputs: Record<string, string[]> = Object.create(null);
  const notes: string[] = [];
  const declared = new Set(step.parameters.map((parameter) => parameter.name));

  // Pipeline parameters (their default, or the run's value) reach their targets.
  for (const parameter of pipeline?.parameters ?? []) {
    const value = Object.hasOwn(runParameters, parameter.name)
      ? runParameters[parameter.name]
      : parameter.default;
    if (value === undefined) continue;
    for (const target of parameter.targets) {
      const [targetNode, , key] = splitSpecifier(target);
      if (targetNode === node.name && key !== undefined && declared.has(key)) {
        parameters[key] = value;
      }
    }
  }
  // Run overrides: `node.param` for pipelines, plain names for single steps.
  for (const [name, value] of Object.entries(runParameters)) {
    const dotted = name.startsWith(`${node.name}.`)
      ? name.slice(node.name.length + 1)
      : undefined;
    if (dotted !== undefined && declared.has(dotted))
      parameters[dotted] = value;
    else if (!pipeline && declared.has(name)) parameters[name] = value;
  }

  const delivered = new Map<string, string[]>();
  for (const edge of node.incoming) {
    const source = upstream.get(edge.source.node);
    if (!source) continue;
    const { type: sourceType, key: sourceKey } = edge.source;
    const { type: targetType, key: targetKey } = edge.target;
    if (targetType === 'input') {
      const uris =
        sourceType === 'output'
          ? source.outputs
              .filter((file) => matchGlob(sourceKey, file.path))
              .map((file) => file.datum)
          : sourceType === 'input'
            ? source.inputs
                .filter(
                  (file) =>
                    matchGlob(sourceKey, file.input) ||
                    matchGlob(sourceKey, file.name),
                )
                .map((file) => file.uri)
            : [];
      if (uris.length === 0) {
        notes.push(
          `edge ${edge.source.node}.${sourceType}.${sourceKey} → ${targetKey}: nothing matched`,
        );
      }
      delivered.set(targetKey, [...(delivered.get(targetKey) ?? []), ...uris]);
    } else if (targetType === 'parameter') {
      const value =
        sourceType === 'metadata'
          ? source.metrics[sourceKey]
          : sourceType === 'parameter'
            ? source.parameters[sourceKey]
            : undefined;
      if (value === undefined) {
        notes.push(
          `edge ${edge.source.node}.${sourceType}.${sourceKey} → parameter ${targetKey}: no value`,
        );
      } else {
        parameters[targetKey] = listValue(
          value,
          sourceType === 'metadata' &&
            (node.type === 'task' ||
              step.parameters.some(
                (parameter) =>
                  parameter.name === targetKey && parameter.multiple !== 'none',
              )),
        );
      }
    }
  }
  for (const [name, uris] of delivered) {
    const own = step.inputs.find((input) => input.name === name)?.default ?? [];
    inputs[name] = node.edgeMergeMode === 'append' ? [...own, ...uris] : uris;
  }
  return { parameters, inputs, notes };
}

/** `train.parameter.lr` → [`train`, `parameter`, `lr`] (first two dots). */
export function splitSpecifier(text: string): [string, string?, string?] {
  const first = text.indexOf('.');
  if (first < 0) return [text];
  const second = text.indexOf('.', first + 1);
  if (second < 0) return [text.slice(0, first), text.slice(first + 1)];
  return [
    text.slice(0, first),
    text.slice(first + 1, second),
    text.slice(second + 1),
  ];
}

/**
 * A metadata list is stored as its JSON text (metrics hold plain values);
 * a task node (which sweeps it) or a multiple-valued parameter gets the
 * list back. Anything else keeps the value as it is.
 */
function listValue(value: unknown, wantsList: boolean): unknown {
  if (!wantsList || typeof value !== 'string' || !value.startsWith('[')) {
    return value;
  }
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed : value;
  } catch {
    return value;
  }
}
