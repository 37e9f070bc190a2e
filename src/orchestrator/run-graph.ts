/**
 * The shape of one run: which nodes it has, what each depends on, and how
 * each reacts to errors. Built once from the configuration at the run's
 * commit; a single-step run is a graph of one node.
 */
import type {
  Config,
  Edge,
  NodeAction,
  OnError,
  Pipeline,
  PipelineNode,
  Socket,
} from '../config/config-model.js';

export interface RunGraphNode {
  name: string;
  type: PipelineNode['type'];
  /** Step the node runs; undefined for deployment nodes and task blueprints. */
  step?: string;
  /** Names of the nodes this one waits for, in declaration order. */
  upstream: string[];
  /** Edges whose target is this node (sources already normalised). */
  incoming: Edge[];
  onError: OnError;
  actions: NodeAction[];
  edgeMergeMode: 'replace' | 'append';
  node?: PipelineNode;
}

export interface RunGraph {
  kind: 'pipeline' | 'step';
  name: string;
  /** In a topological order (declaration order among independent nodes). */
  nodes: RunGraphNode[];
  reuseExecutions: boolean;
  pipeline?: Pipeline;
}

export type RunGraphResult =
  { ok: true; graph: RunGraph } | { ok: false; message: string };

const PLURALS: Record<string, string> = {
  outputs: 'output',
  inputs: 'input',
  parameters: 'parameter',
};

/** `outputs` → `output`: kiln reads Valohai's plural socket types. */
export function normaliseSocket(socket: Socket): Socket {
  return { ...socket, type: PLURALS[socket.type] ?? socket.type };
}

/** Resolves what a run named `name` is: a pipeline first, else a step. */
export function buildRunGraph(config: Config, name: string): RunGraphResult {
  const pipeline = config.pipelines.find((item) => item.name === name);
  if (pipeline) return buildPipelineGraph(pipeline);
  const step = config.steps.find((item) => item.name === name);
  if (step) {
    return {
      ok: true,
      graph: {
        kind: 'step',
        name,
        reuseExecutions: false,
        nodes: [
          {
            name: step.name,
            type: 'execution',
            step: step.name,
            upstream: [],
            incoming: [],
            onError: 'stop-all',
            actions: [],
            edgeMergeMode: 'replace',
          },
        ],
      },
    };
  }
  const known = [
    ...config.pipelines.map((item) => `pipeline "${item.name}"`),
    ...config.steps.map((item) => `step "${item.name}"`),
  ];
  return {
    ok: false,
    message:
      known.length > 0
        ? `no pipeline or step named "${name}"; the file has ${known.join(', ')}`
        : `no pipeline or step named "${name}": the file defines none`,
  };
}

function buildPipelineGraph(pipeline: Pipeline): RunGraphResult {
  const byName = new Map(pipeline.nodes.map((node) => [node.name, node]));
  const upstream = new Map<string, string[]>();
  const incoming = new Map<string, Edge[]>();
  for (const node of pipeline.nodes) {
    upstream.set(node.name, []);
    incoming.set(node.name, []);
  }
  for (const raw of pipeline.edges) {
    const edge = {
      ...raw,
      source: normaliseSocket(raw.source),
      target: normaliseSocket(raw.target),
    };
    if (!byName.has(edge.source.node) || !byName.has(edge.target.node)) {
      return {
        ok: false,
        message: `pipeline "${pipeline.name}" has an edge between unknown nodes "${edge.source.node}" and "${edge.target.node}"`,
      };
    }
    const deps = upstream.get(edge.target.node) ?? [];
    if (
      edge.source.node !== edge.target.node &&
      !deps.includes(edge.source.node)
    ) {
      deps.push(edge.source.node);
    }
    incoming.get(edge.target.node)?.push(edge);
  }
  const order = topologicalOrder(
    pipeline.nodes.map((node) => node.name),
    upstream,
  );
  if (!order.ok) {
    return {
      ok: false,
      message: `pipeline "${pipeline.name}" can't run: its edges form a cycle through ${order.cycle.map((name) => `"${name}"`).join(' → ')}`,
    };
  }
  const nodes = order.order.map((name): RunGraphNode => {
    const node = byName.get(name) as PipelineNode;
    return {
      name,
      type: node.type,
      step: node.step,
      upstream: upstream.get(name) ?? [],
      incoming: incoming.get(name) ?? [],
      onError: node.onError,
      actions: node.actions,
      edgeMergeMode: node.edgeMergeMode,
      node,
    };
  });
  return {
    ok: true,
    graph: {
      kind: 'pipeline',
      name: pipeline.name,
      nodes,
      reuseExecutions: pipeline.reuseExecutions,
      pipeline,
    },
  };
}

type OrderResult =
  { ok: true; order: string[] } | { ok: false; cycle: string[] };

/** Kahn's algorithm, stable: among ready nodes, declaration order wins. */
function topologicalOrder(
  names: string[],
  upstream: Map<string, string[]>,
): OrderResult {
  const remaining = new Map(
    names.map((name) => [name, new Set(upstream.get(name))]),
  );
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = names.filter(
      (name) => remaining.has(name) && remaining.get(name)?.size === 0,
    );
    if (ready.length === 0) {
      return { ok: false, cycle: [...remaining.keys()] };
    }
    for (const name of ready) {
      order.push(name);
      remaining.delete(name);
      for (const deps of remaining.values()) deps.delete(name);
    }
  }
  return { ok: true, order };
}
