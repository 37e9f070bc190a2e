/**
 * The records of one batch of a task's children, as pure data for the
 * store to create at once: each child's first state (queued for the first
 * ones, pending for the rest), what it was created with, and the batch's
 * join. Bounded queueing is a set of chains: with a limit of L, children
 * 1…L start queued and each child, when it ends, releases the one L places
 * after it — so at most L of the batch are queued or running at any time,
 * each release is part of the ending child's own compare-and-set, and no
 * counter is shared by the children.
 */
import type { RunNodeState } from '../../model/run.js';
import { initialNode, nodeTransition } from '../node-machine.js';
import type { RunGraph } from '../run-graph.js';
import {
  childIndex,
  childName,
  joinIndex,
  joinName,
  type TaskChildSpec,
} from './task-children.js';

export interface TaskBatchPlan {
  children: Array<{ state: RunNodeState; spec: TaskChildSpec }>;
  join: { state: RunNodeState; waits: number };
}

export interface PlanTaskBatchOptions {
  graph: RunGraph;
  task: string;
  /** The step the children run (their node's `step`). */
  step: string;
  batch: number;
  /** Number of the batch's first child (children before it: first − 1). */
  first: number;
  /** One parameter set per child. */
  sets: ReadonlyArray<Record<string, unknown>>;
  /** Children queued or running at once. */
  concurrency: number;
  context: { runId: string; now: string };
}

export function planTaskBatch(options: PlanTaskBatchOptions): TaskBatchPlan {
  const { graph, task, batch, first, sets, context } = options;
  const limit = Math.max(1, Math.min(options.concurrency, sets.length));
  const last = first + sets.length - 1;
  const children = sets.map((parameters, offset) => {
    const number = first + offset;
    const releases = number + limit <= last ? number + limit : undefined;
    return {
      state:
        offset < limit
          ? queuedState(graph, task, options.step, number, context)
          : pendingState(graph, task, options.step, number),
      spec: {
        task,
        number,
        batch,
        batchSize: sets.length,
        ...(releases !== undefined ? { releases } : {}),
        parameters: { ...parameters },
      },
    };
  });
  return {
    children,
    join: {
      state: initialNode({
        name: joinName(task, batch),
        step: '',
        index: joinIndex(graph, task, batch),
      }),
      waits: sets.length,
    },
  };
}

/**
 * What a child's end releases: the next child of its chain and its join's
 * countdown — or, when the child stops the task (`stopping`), its join at
 * once and no one else: the join's job then stops whatever is left, so the
 * task ends even if the process deciding the stop dies before doing it.
 */
export function childReleases(
  graph: RunGraph,
  step: string,
  spec: TaskChildSpec,
  context: { runId: string; now: string },
  stopping = false,
): Array<{ name: string; waits: number; queued: RunNodeState }> {
  const releases: Array<{ name: string; waits: number; queued: RunNodeState }> =
    [];
  if (spec.releases !== undefined && !stopping) {
    releases.push({
      name: childName(spec.task, spec.releases),
      waits: 1,
      queued: queuedState(graph, spec.task, step, spec.releases, context),
    });
  }
  const join = initialNode({
    name: joinName(spec.task, spec.batch),
    step: '',
    index: joinIndex(graph, spec.task, spec.batch),
  });
  const ready = nodeTransition(join, { type: 'ready' }, context);
  releases.push({
    name: join.name,
    waits: stopping ? 1 : spec.batchSize,
    queued: ready.applied ? ready.node : join,
  });
  return releases;
}

function pendingState(
  graph: RunGraph,
  task: string,
  step: string,
  number: number,
): RunNodeState {
  return initialNode({
    name: childName(task, number),
    step,
    index: childIndex(graph, task, number),
  });
}

function queuedState(
  graph: RunGraph,
  task: string,
  step: string,
  number: number,
  context: { runId: string; now: string },
): RunNodeState {
  const pending = pendingState(graph, task, step, number);
  const ready = nodeTransition(pending, { type: 'ready' }, context);
  return ready.applied ? ready.node : pending;
}
