/** Builds the normalised `Pipeline` from a pipeline mapping (best effort). */
import type {
  Edge,
  NodeAction,
  OnError,
  Pipeline,
  PipelineNode,
  PipelineParameter,
} from './config-model.js';
import { isMapping } from './describe-value.js';
import { normalizeOverride } from './normalize-step.js';
import { parseSocket } from './parse-socket.js';
import {
  readBoolean,
  readMappingItems,
  readString,
  readStringList,
} from './read-field.js';

const onErrorValues: readonly string[] = [
  'stop-all',
  'stop-next',
  'continue',
  'retry',
];
const nodeTypes: readonly string[] = ['execution', 'task', 'deployment'];

function normalizeAction(raw: Record<string, unknown>): NodeAction {
  return {
    when: readStringList(raw.when),
    if: readStringList(raw.if),
    then: readStringList(raw.then),
  };
}

export function normalizeNode(raw: Record<string, unknown>): PipelineNode {
  const type = (
    nodeTypes.includes(raw.type as string) ? raw.type : 'execution'
  ) as PipelineNode['type'];
  const node: PipelineNode = {
    name: readString(raw.name) ?? '',
    type,
    actions: readMappingItems(raw.actions).map(({ item }) =>
      normalizeAction(item),
    ),
    onError: (onErrorValues.includes(raw['on-error'] as string)
      ? raw['on-error']
      : 'stop-all') as OnError,
    edgeMergeMode: raw['edge-merge-mode'] === 'append' ? 'append' : 'replace',
  };
  const fields: ['step' | 'task' | 'deployment' | 'commit', string][] = [
    ['step', 'step'],
    ['task', 'task'],
    ['deployment', 'deployment'],
    ['commit', 'commit'],
  ];
  for (const [field, key] of fields) {
    const text = readString(raw[key]);
    if (text !== undefined) node[field] = text;
  }
  if (isMapping(raw.override)) node.override = normalizeOverride(raw.override);
  if (type === 'deployment') {
    node.endpoints = readStringList(raw.endpoints);
    node.aliases = readStringList(raw.aliases);
  }
  return node;
}

/** The (source, target) strings of an edge, or undefined when malformed. */
export function readEdgeEnds(raw: unknown): [string, string] | undefined {
  if (Array.isArray(raw)) {
    const [source, target] = raw as unknown[];
    if (
      raw.length === 2 &&
      typeof source === 'string' &&
      typeof target === 'string'
    ) {
      return [source, target];
    }
    return undefined;
  }
  if (
    isMapping(raw) &&
    typeof raw.source === 'string' &&
    typeof raw.target === 'string'
  ) {
    return [raw.source, raw.target];
  }
  return undefined;
}

export function normalizeEdge(raw: unknown): Edge | undefined {
  const ends = readEdgeEnds(raw);
  if (ends === undefined) return undefined;
  const source = parseSocket(ends[0]);
  const target = parseSocket(ends[1]);
  if (source === undefined || target === undefined) return undefined;
  const edge: Edge = { source, target };
  if (isMapping(raw) && raw.configuration !== undefined) {
    edge.configuration = raw.configuration;
  }
  return edge;
}

function normalizeParameter(raw: Record<string, unknown>): PipelineParameter {
  const parameter: PipelineParameter = {
    name: readString(raw.name) ?? '',
    targets: [...readStringList(raw.target), ...readStringList(raw.targets)],
  };
  if (raw.default !== undefined && raw.default !== null)
    parameter.default = raw.default;
  const description = readString(raw.description);
  if (description !== undefined) parameter.description = description;
  const category = readString(raw.category);
  if (category !== undefined) parameter.category = category;
  return parameter;
}

export function normalizePipeline(raw: Record<string, unknown>): Pipeline {
  const edges: Edge[] = [];
  if (Array.isArray(raw.edges)) {
    for (const item of raw.edges as unknown[]) {
      const edge = normalizeEdge(item);
      if (edge !== undefined) edges.push(edge);
    }
  }
  return {
    name: readString(raw.name) ?? '',
    nodes: readMappingItems(raw.nodes).map(({ item }) => normalizeNode(item)),
    edges,
    parameters: readMappingItems(raw.parameters).map(({ item }) =>
      normalizeParameter(item),
    ),
    reuseExecutions: readBoolean(raw['reuse-executions'], false),
  };
}
