/**
 * How a task's children and its batch joins are named, numbered and
 * chained. A task node `train` runs children `train#1`, `train#2`, … —
 * each an ordinary node of the run (its own record, attempts, execution)
 * — and, per batch, a join node `train@1`, `train@2`, … that every child
 * of the batch counts down; when it is released a worker decides what the
 * task does next (another batch, or the task's end). Nothing ever lists
 * the children inside the task node's own state, so no write grows with
 * their number.
 *
 * Node indexes name executions (`<run>-<index>-<attempt>`) and step jobs,
 * so each child and join gets one of its own, after the graph's nodes and
 * interleaved between the run's task nodes: deterministic, no counter.
 */
import type { RunGraph } from '../run-graph.js';

/** What a child needs to know, stored once with it (`c:<child>`). */
export interface TaskChildSpec {
  /** The task node it belongs to. */
  task: string;
  /** 1, 2, … in creation order. */
  number: number;
  /** The batch it was created in (1 for all but `bayesian_tpe`). */
  batch: number;
  /** Children in its batch (what the batch's join waits for). */
  batchSize: number;
  /** The child it starts when it ends (bounded queueing), if any. */
  releases?: number;
  /** Its parameter values (over the task node's own). */
  parameters: Record<string, unknown>;
}

export function childName(task: string, number: number): string {
  return `${task}#${number}`;
}

export function joinName(task: string, batch: number): string {
  return `${task}@${batch}`;
}

export interface TaskNodeName {
  task: string;
  kind: 'child' | 'join';
  number: number;
}

/** `train#3` → child 3 of `train`; `train@1` → join of batch 1. */
export function parseTaskNodeName(name: string): TaskNodeName | null {
  const match = /^(.+)([#@])([1-9]\d{0,8})$/.exec(name);
  if (!match) return null;
  return {
    task: match[1] as string,
    kind: match[2] === '#' ? 'child' : 'join',
    number: Number(match[3]),
  };
}

/** The task node of a child or join name, when the graph has that task. */
export function taskNodeNameOf(
  graph: RunGraph,
  name: string,
): TaskNodeName | null {
  if (graph.byName.has(name)) return null;
  const parsed = parseTaskNodeName(name);
  if (!parsed) return null;
  return graph.byName.get(parsed.task)?.type === 'task' ? parsed : null;
}

function slotIndex(graph: RunGraph, task: string, slot: number): number {
  const tasks = graph.nodes.filter((node) => node.type === 'task');
  const ordinal = tasks.findIndex((node) => node.name === task);
  return graph.nodes.length + tasks.length * (slot - 1) + Math.max(0, ordinal);
}

export function childIndex(graph: RunGraph, task: string, number: number) {
  return slotIndex(graph, task, 2 * number - 1);
}

export function joinIndex(graph: RunGraph, task: string, batch: number) {
  return slotIndex(graph, task, 2 * batch);
}

/** The index a child or join name must have (stale jobs are refused). */
export function taskNodeIndex(graph: RunGraph, parsed: TaskNodeName): number {
  return parsed.kind === 'child'
    ? childIndex(graph, parsed.task, parsed.number)
    : joinIndex(graph, parsed.task, parsed.number);
}
