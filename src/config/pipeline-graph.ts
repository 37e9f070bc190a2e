/**
 * The node graph of a pipeline: one arrow from an edge's source node to its
 * target node. Used by the linter (cycles, unconnected nodes) and by the
 * scheduler (run order, what must finish before a node may start).
 */
import type { Pipeline } from './config-model.js';
import { KilnError } from '../errors.js';

/** Thrown by `topologicalOrder` for a cyclic pipeline (kiln will not run it). */
export class PipelineCycleError extends KilnError {
  readonly code = 'PIPELINE_CYCLE' as const;
  readonly nodes: string[];
  constructor(pipeline: string, nodes: string[]) {
    super(
      `pipeline "${pipeline}" has a cycle through ${nodes.join(', ')}; remove one of the edges between them`,
    );
    this.nodes = nodes;
  }
}

/** Direct predecessors of every node, in file order, without duplicates. */
function predecessorsByNode(pipeline: Pipeline): Map<string, string[]> {
  const names = new Set(pipeline.nodes.map((node) => node.name));
  const predecessors = new Map<string, string[]>();
  for (const name of names) predecessors.set(name, []);
  for (const edge of pipeline.edges) {
    const { node: source } = edge.source;
    const { node: target } = edge.target;
    if (!names.has(source) || !names.has(target)) continue;
    const list = predecessors.get(target) ?? [];
    // Duplicate edges are common (one per file); keep each source once.
    if (list[list.length - 1] !== source && !list.includes(source)) {
      list.push(source);
    }
    predecessors.set(target, list);
  }
  return predecessors;
}

/** Nodes that feed `node` directly (edges into it), in file order. */
export function upstreamOf(pipeline: Pipeline, node: string): string[] {
  const direct = predecessorsByNode(pipeline).get(node) ?? [];
  const order = pipeline.nodes.map((candidate) => candidate.name);
  return [...direct].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

/** Every node `node` depends on, directly or not, in file order. */
export function ancestorsOf(pipeline: Pipeline, node: string): string[] {
  const predecessors = predecessorsByNode(pipeline);
  const seen = new Set<string>();
  const stack = [...(predecessors.get(node) ?? [])];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    if (seen.has(current)) continue;
    seen.add(current);
    stack.push(...(predecessors.get(current) ?? []));
  }
  return pipeline.nodes
    .map((candidate) => candidate.name)
    .filter((name) => seen.has(name));
}

/**
 * Node names so that every node comes after the nodes it depends on; among
 * the nodes ready to run, the earliest in the file comes first. Throws
 * PipelineCycleError when there is a cycle.
 */
export function topologicalOrder(pipeline: Pipeline): string[] {
  const predecessors = predecessorsByNode(pipeline);
  const names = [...predecessors.keys()];
  const position = new Map(names.map((name, index) => [name, index]));
  const successors = new Map<string, string[]>(names.map((name) => [name, []]));
  const remaining = new Map<string, number>();
  for (const [name, list] of predecessors) {
    remaining.set(name, list.length);
    for (const source of list) successors.get(source)?.push(name);
  }
  // A binary heap of ready nodes keyed by file position: O(n log n) even
  // for the long chains a hostile file may hold.
  const heap: number[] = [];
  const push = (index: number): void => {
    heap.push(index);
    let child = heap.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if ((heap[parent] ?? 0) <= (heap[child] ?? 0)) break;
      [heap[parent], heap[child]] = [heap[child] ?? 0, heap[parent] ?? 0];
      child = parent;
    }
  };
  const pop = (): number => {
    const top = heap[0] ?? 0;
    const last = heap.pop() ?? 0;
    if (heap.length > 0) {
      heap[0] = last;
      let parent = 0;
      for (;;) {
        const left = parent * 2 + 1;
        const right = left + 1;
        let smallest = parent;
        if (left < heap.length && (heap[left] ?? 0) < (heap[smallest] ?? 0))
          smallest = left;
        if (right < heap.length && (heap[right] ?? 0) < (heap[smallest] ?? 0))
          smallest = right;
        if (smallest === parent) break;
        [heap[parent], heap[smallest]] = [
          heap[smallest] ?? 0,
          heap[parent] ?? 0,
        ];
        parent = smallest;
      }
    }
    return top;
  };
  names.forEach((name, index) => {
    if (remaining.get(name) === 0) push(index);
  });
  const order: string[] = [];
  while (heap.length > 0) {
    const name = names[pop()] as string;
    order.push(name);
    for (const next of successors.get(name) ?? []) {
      const left = (remaining.get(next) ?? 0) - 1;
      remaining.set(next, left);
      if (left === 0) push(position.get(next) ?? 0);
    }
  }
  if (order.length < names.length) {
    const done = new Set(order);
    throw new PipelineCycleError(
      pipeline.name,
      findCycles(pipeline)[0] ?? names.filter((name) => !done.has(name)),
    );
  }
  return order;
}

/**
 * The cycles of the graph, one node list per strongly connected component
 * with more than one node (or a node with an edge to itself), file order.
 */
export function findCycles(pipeline: Pipeline): string[][] {
  const predecessors = predecessorsByNode(pipeline);
  const successors = new Map<string, string[]>();
  for (const name of predecessors.keys()) successors.set(name, []);
  for (const [target, sources] of predecessors) {
    for (const source of sources) successors.get(source)?.push(target);
  }
  // Iterative Tarjan: hostile files may have long chains, so no recursion.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const order = [...successors.keys()];
  for (const root of order) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter += 1;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; next: number };
      const children = successors.get(frame.node) ?? [];
      if (frame.next < children.length) {
        const child = children[frame.next] as string;
        frame.next += 1;
        if (!index.has(child)) {
          index.set(child, counter);
          low.set(child, counter);
          counter += 1;
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, next: 0 });
        } else if (onStack.has(child)) {
          low.set(
            frame.node,
            Math.min(low.get(frame.node) ?? 0, index.get(child) ?? 0),
          );
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(
          parent.node,
          Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0),
        );
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = (successors.get(frame.node) ?? []).includes(
          frame.node,
        );
        if (component.length > 1 || selfLoop) {
          cycles.push(order.filter((name) => component.includes(name)));
        }
      }
    }
  }
  return cycles;
}

/**
 * Nodes that no edge touches, in a pipeline of several nodes. Deployment
 * nodes are left out: they may deploy without receiving anything.
 */
export function findUnconnectedNodes(pipeline: Pipeline): string[] {
  if (pipeline.nodes.length < 2) return [];
  const touched = new Set<string>();
  for (const edge of pipeline.edges) {
    touched.add(edge.source.node);
    touched.add(edge.target.node);
  }
  const names = new Set(
    pipeline.nodes
      .filter((node) => node.type !== 'deployment')
      .map((node) => node.name),
  );
  return [...names].filter((name) => !touched.has(name));
}
