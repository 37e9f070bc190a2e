/**
 * How the graph moves when nodes settle, as pure functions of the run's
 * graph and node states: which nodes start with the run, which successors
 * a finished node may release or must skip, which pending nodes an
 * approval releases. The node machine decides each node's new state; these
 * decide which nodes get which event.
 *
 * Successors are released without reading the whole run: a node with one
 * upstream node is ready when that node is satisfied; a node with several
 * keeps a count of upstream nodes still to be satisfied (`waits`), set at
 * creation and decremented atomically by the store.
 */
import type { RunNodeState } from '../model/run.js';
import { initialNode, isTerminalNode, nodeTransition } from './node-machine.js';
import {
  descendantsOf,
  type RunGraph,
  type RunGraphNode,
} from './run-graph.js';

export const DEPLOYMENT_SKIPPED = 'deployment nodes are not run by kiln yet';

export interface InitialNodes {
  nodes: RunNodeState[];
  /** Upstream counts of the nodes with more than one upstream node. */
  waits: Record<string, number>;
  /** Nodes queued at once (no upstream), unless the run is held. */
  queued: string[];
}

/**
 * The nodes of a new run. Roots are queued unless `hold` (the run waits for
 * approval); deployment nodes and everything after them are skipped.
 */
export function initialNodes(
  graph: RunGraph,
  options: { runId: string; now: string; hold: boolean },
): InitialNodes {
  const nodes = new Map<string, RunNodeState>();
  const waits: Record<string, number> = {};
  const queued: string[] = [];
  for (const node of graph.nodes) {
    nodes.set(
      node.name,
      initialNode({
        name: node.name,
        step: node.step ?? '',
        index: node.index,
      }),
    );
    if (node.upstream.length > 1) waits[node.name] = node.upstream.length;
  }
  const context = { runId: options.runId, now: options.now };
  for (const node of graph.nodes) {
    if (node.type !== 'deployment') continue;
    for (const target of [node, ...descendantsOf(graph, node.name)]) {
      const state = nodes.get(target.name) as RunNodeState;
      const reason =
        target === node
          ? DEPLOYMENT_SKIPPED
          : `upstream node "${node.name}" was skipped`;
      const result = nodeTransition(
        state,
        { type: 'blocked', reason },
        context,
      );
      if (result.applied) nodes.set(target.name, result.node);
    }
  }
  if (!options.hold) {
    for (const node of graph.nodes) {
      const state = nodes.get(node.name) as RunNodeState;
      if (node.upstream.length > 0 || state.status !== 'pending') continue;
      const result = nodeTransition(state, { type: 'ready' }, context);
      if (result.applied) {
        nodes.set(node.name, result.node);
        queued.push(node.name);
      }
    }
  }
  return { nodes: [...nodes.values()], waits, queued };
}

/** A successor of a satisfied node, and the state it takes when released. */
export interface Release {
  name: string;
  /** Upstream count: 1 releases at once, more goes through the counter. */
  waits: number;
  /** Its state once queued (from pending). */
  queued: RunNodeState;
}

/** The successors a satisfied node counts down. */
export function releasesOf(
  graph: RunGraph,
  name: string,
  context: { runId: string; now: string },
): Release[] {
  const node = graph.byName.get(name);
  if (!node) return [];
  return node.downstream.map((successor) => {
    const target = graph.byName.get(successor) as RunGraphNode;
    return {
      name: successor,
      waits: target.upstream.length,
      queued: queuedFromPending(target, context),
    };
  });
}

/**
 * The nodes a skipped, stopped or failed node blocks (every node after it),
 * each with its skipped state and a reason naming the upstream node on its
 * way from `name`.
 */
export function blockedBy(
  graph: RunGraph,
  name: string,
  why: 'skipped' | 'stopped' | 'failed',
  context: { runId: string; now: string },
): RunNodeState[] {
  const blocked = descendantsOf(graph, name);
  const names = new Set([name, ...blocked.map((node) => node.name)]);
  return blocked.map((target) => {
    const via = target.upstream.find((upstream) => names.has(upstream)) ?? name;
    const reason = `upstream node "${via}" ${via === name ? `was ${why}` : 'was skipped'}`;
    const pending = initialNode({
      name: target.name,
      step: target.step ?? '',
      index: target.index,
    });
    const result = nodeTransition(
      pending,
      { type: 'blocked', reason },
      context,
    );
    return result.applied ? result.node : pending;
  });
}

/**
 * Pending nodes whose upstream nodes are all satisfied (after an approval,
 * or to repair a run): they are ready now.
 */
export function readyNodes(
  graph: RunGraph,
  nodes: readonly RunNodeState[],
): string[] {
  const state = new Map(nodes.map((node) => [node.name, node]));
  const ready: string[] = [];
  for (const node of graph.nodes) {
    if (state.get(node.name)?.status !== 'pending') continue;
    if (node.type === 'deployment') continue;
    const satisfied = node.upstream.every((name) => {
      const upstream = state.get(name);
      if (!upstream) return false;
      if (upstream.status === 'complete' || upstream.status === 'reused') {
        return true;
      }
      return (
        upstream.status === 'error' &&
        graph.byName.get(name)?.onError === 'continue'
      );
    });
    if (satisfied) ready.push(node.name);
  }
  return ready;
}

/** Nodes whose error fails the run when they all settled. */
export function failingNodes(
  graph: RunGraph,
  nodes: readonly RunNodeState[],
): string[] {
  // A task's children and joins are not graph nodes: the task node
  // answers for them.
  return nodes
    .filter((node) => {
      const graphNode = graph.byName.get(node.name);
      return (
        node.status === 'error' &&
        graphNode !== undefined &&
        graphNode.onError !== 'continue'
      );
    })
    .map((node) => node.name);
}

export function allSettled(nodes: readonly RunNodeState[]): boolean {
  return nodes.every((node) => isTerminalNode(node.status));
}

function queuedFromPending(
  target: RunGraphNode,
  context: { runId: string; now: string },
): RunNodeState {
  const pending = initialNode({
    name: target.name,
    step: target.step ?? '',
    index: target.index,
  });
  const result = nodeTransition(pending, { type: 'ready' }, context);
  return result.applied ? result.node : pending;
}
