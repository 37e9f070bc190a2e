/**
 * The shape of one run: which nodes it has, what each depends on, and how
 * each reacts to errors. Built once from the configuration at the run's
 * commit; a single-step run is a graph of one node. The node order is the
 * one topological order of `config/pipeline-graph.ts` — the same `kiln
 * plan` shows — and a node's `index` in it names its executions.
 */
import {
  PipelineCycleError,
  topologicalOrder,
} from '../config/pipeline-graph.js';
import type {
  Config,
  Edge,
  NodeAction,
  OnError,
  Pipeline,
  PipelineNode,
  Socket,
  Task,
} from '../config/config-model.js';

export interface RunGraphNode {
  name: string;
  /** Position in `RunGraph.nodes`. */
  index: number;
  type: PipelineNode['type'];
  /** Step the node runs; undefined for deployment nodes and task blueprints. */
  step?: string;
  /** Names of the nodes this one waits for, in declaration order. */
  upstream: string[];
  /** Names of the nodes that wait for this one, in graph order. */
  downstream: string[];
  /** Edges whose target is this node (sources already normalised). */
  incoming: Edge[];
  onError: OnError;
  actions: NodeAction[];
  edgeMergeMode: 'replace' | 'append';
  node?: PipelineNode;
  /**
   * What a task node sweeps (its blueprint, or for a task node with only a
   * `step` a grid over the list values it receives); children run `step`.
   */
  task?: Task;
}

export interface RunGraph {
  kind: 'pipeline' | 'step' | 'task';
  name: string;
  /** In the topological order (file order among independent nodes). */
  nodes: RunGraphNode[];
  /** Node by name. */
  byName: ReadonlyMap<string, RunGraphNode>;
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

/**
 * Resolves what a run named `name` is: a pipeline first, else a step,
 * else a task (a graph of one task node).
 */
export function buildRunGraph(config: Config, name: string): RunGraphResult {
  const pipeline = config.pipelines.find((item) => item.name === name);
  if (pipeline) return buildPipelineGraph(pipeline, config);
  const step = config.steps.find((item) => item.name === name);
  if (step) {
    const node: RunGraphNode = {
      name: step.name,
      index: 0,
      type: 'execution',
      step: step.name,
      upstream: [],
      downstream: [],
      incoming: [],
      onError: 'stop-all',
      actions: [],
      edgeMergeMode: 'replace',
    };
    return {
      ok: true,
      graph: {
        kind: 'step',
        name,
        reuseExecutions: false,
        nodes: [node],
        byName: new Map([[node.name, node]]),
      },
    };
  }
  const task = config.tasks.find((item) => item.name === name);
  if (task) {
    if (!config.steps.some((item) => item.name === task.step)) {
      return {
        ok: false,
        message: `task "${task.name}" runs step "${task.step}", which is not in the file`,
      };
    }
    const node: RunGraphNode = {
      name: task.name,
      index: 0,
      type: 'task',
      step: task.step,
      upstream: [],
      downstream: [],
      incoming: [],
      onError: 'stop-all',
      actions: [],
      edgeMergeMode: 'replace',
      task,
    };
    return {
      ok: true,
      graph: {
        kind: 'task',
        name,
        reuseExecutions: false,
        nodes: [node],
        byName: new Map([[node.name, node]]),
      },
    };
  }
  const known = [
    ...config.pipelines.map((item) => `pipeline "${item.name}"`),
    ...config.steps.map((item) => `step "${item.name}"`),
    ...config.tasks.map((item) => `task "${item.name}"`),
  ];
  return {
    ok: false,
    message:
      known.length > 0
        ? `no pipeline, step or task named "${name}"; the file has ${known.join(', ')}`
        : `no pipeline, step or task named "${name}": the file defines none`,
  };
}

/**
 * The sweep of a pipeline task node: its blueprint (`task:`), or for a
 * node with only a `step` a grid search whose variants are the list values
 * the node receives (from edges, pipeline parameters or the run).
 */
function taskOfNode(
  node: PipelineNode,
  config: Config,
): { ok: true; task: Task } | { ok: false; message: string } {
  if (node.task !== undefined) {
    const task = config.tasks.find((item) => item.name === node.task);
    if (!task) {
      return {
        ok: false,
        message: `task node "${node.name}" names task "${node.task}", which is not in the file`,
      };
    }
    return { ok: true, task };
  }
  return {
    ok: true,
    task: {
      name: node.name,
      step: node.step ?? '',
      type: 'grid_search',
      parameters: [],
      reuseChildren: false,
    },
  };
}

function buildPipelineGraph(
  pipeline: Pipeline,
  config: Config,
): RunGraphResult {
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
  let order: string[];
  try {
    order = topologicalOrder(pipeline);
  } catch (error) {
    if (!(error instanceof PipelineCycleError)) throw error;
    return {
      ok: false,
      message: `pipeline "${pipeline.name}" can't run: its edges form a cycle through ${error.nodes.map((name) => `"${name}"`).join(' → ')}`,
    };
  }
  const downstream = new Map<string, string[]>(order.map((name) => [name, []]));
  for (const name of order) {
    for (const source of upstream.get(name) ?? []) {
      downstream.get(source)?.push(name);
    }
  }
  const tasks = new Map<string, Task>();
  for (const node of pipeline.nodes) {
    if (node.type !== 'task') continue;
    const resolved = taskOfNode(node, config);
    if (!resolved.ok) return resolved;
    tasks.set(node.name, resolved.task);
  }
  for (const node of pipeline.nodes) {
    const child = /^(.+)[#@]\d+$/.exec(node.name);
    if (child && tasks.has(child[1] as string)) {
      return {
        ok: false,
        message: `pipeline "${pipeline.name}" has a node "${node.name}", the name of a child of task node "${child[1]}"; rename it`,
      };
    }
  }
  const nodes = order.map((name, index): RunGraphNode => {
    const node = byName.get(name) as PipelineNode;
    const task = tasks.get(name);
    return {
      name,
      index,
      type: node.type,
      step: node.step ?? task?.step,
      ...(task ? { task } : {}),
      upstream: upstream.get(name) ?? [],
      downstream: downstream.get(name) ?? [],
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
      byName: new Map(nodes.map((node) => [node.name, node])),
      reuseExecutions: pipeline.reuseExecutions,
      pipeline,
    },
  };
}

/**
 * Every node that depends on `name`, directly or not, in graph order: the
 * nodes that can never run once `name` is skipped or stopped.
 */
export function descendantsOf(graph: RunGraph, name: string): RunGraphNode[] {
  const seen = new Set<string>();
  const stack = [...(graph.byName.get(name)?.downstream ?? [])];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    if (seen.has(current)) continue;
    seen.add(current);
    stack.push(...(graph.byName.get(current)?.downstream ?? []));
  }
  return graph.nodes.filter((node) => seen.has(node.name));
}
