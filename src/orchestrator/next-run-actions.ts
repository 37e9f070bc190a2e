/**
 * The scheduling decision for a run, as a pure function of its graph and
 * the current node states. The orchestrator calls it after every change
 * (under the run's lock) and applies the result; calling it twice on the
 * same state gives the same answer, which is what makes advancing the DAG
 * safe when BullMQ delivers a completion more than once.
 */
import type { NodeStatus, RunRecord, RunStatus } from '../model/run.js';
import type { RunGraph, RunGraphNode } from './run-graph.js';

export interface RunActions {
  /** Pending nodes whose dependencies are all satisfied: queue them. */
  enqueue: string[];
  /** Errored nodes with `on-error: retry` that get one more attempt. */
  retry: string[];
  /** Pending nodes that will never run, with the reason shown to users. */
  skip: Array<{ node: string; reason: string }>;
  /** Queued or started nodes to stop. */
  stop: Array<{ node: string; reason: string }>;
  /** Set when the run reaches (or must go to) a final state. */
  finish?: { status: RunStatus; reason?: string };
}

const ACTIVE: readonly NodeStatus[] = ['queued', 'started'];
const SUCCEEDED: readonly NodeStatus[] = ['complete', 'reused'];
const FINAL_RUN: readonly RunStatus[] = [
  'complete',
  'error',
  'stopped',
  'cancelled',
];

/** Attempts a node with `on-error: retry` gets in all. */
export const RETRY_ATTEMPTS = 2;

export function isFinalRunStatus(status: RunStatus): boolean {
  return FINAL_RUN.includes(status);
}

export function nextRunActions(graph: RunGraph, run: RunRecord): RunActions {
  const actions: RunActions = { enqueue: [], retry: [], skip: [], stop: [] };
  const state = new Map(run.nodes.map((node) => [node.name, node]));
  const statusOf = (name: string): NodeStatus =>
    state.get(name)?.status ?? 'pending';

  if (run.status === 'waiting-approval') return actions;

  // 1. A final run only winds down what is still active or pending.
  if (isFinalRunStatus(run.status)) {
    windDown(graph, statusOf, actions, run.reason ?? `run ${run.status}`);
    return actions;
  }

  // 2. Errors: retry, stop everything, or let them through.
  for (const node of graph.nodes) {
    if (statusOf(node.name) !== 'error') continue;
    const attempt = state.get(node.name)?.attempt ?? 1;
    if (node.onError === 'retry' && attempt < RETRY_ATTEMPTS) {
      actions.retry.push(node.name);
      continue;
    }
    if (node.onError === 'stop-all' || node.onError === 'retry') {
      const reason = `node "${node.name}" failed`;
      windDown(graph, statusOf, actions, reason);
      actions.finish = { status: 'error', reason };
      return actions;
    }
  }

  // 3. Pending nodes run, wait, or are skipped because of what is upstream.
  const blocked = new Map<string, string>();
  for (const node of graph.nodes) {
    if (statusOf(node.name) !== 'pending') continue;
    if (node.type === 'deployment') {
      blocked.set(node.name, 'deployment nodes are not run by kiln yet');
      continue;
    }
    const verdict = upstreamVerdict(node, statusOf, graph, blocked);
    if (verdict.kind === 'ready') actions.enqueue.push(node.name);
    else if (verdict.kind === 'blocked') blocked.set(node.name, verdict.reason);
  }
  for (const [node, reason] of blocked) actions.skip.push({ node, reason });

  // 4. Nothing left to do: the run is over.
  const settled = new Set([...actions.skip.map((item) => item.node)]);
  const unfinished = graph.nodes.some((node) => {
    const status = statusOf(node.name);
    return (
      (status === 'pending' && !settled.has(node.name)) ||
      ACTIVE.includes(status) ||
      actions.retry.includes(node.name)
    );
  });
  if (!unfinished && actions.enqueue.length === 0) {
    const failed = graph.nodes.filter(
      (node) => statusOf(node.name) === 'error' && node.onError !== 'continue',
    );
    const stopped = graph.nodes.filter(
      (node) => statusOf(node.name) === 'stopped',
    );
    if (failed.length > 0) {
      actions.finish = {
        status: 'error',
        reason: `${failed.map((node) => `"${node.name}"`).join(', ')} failed`,
      };
    } else if (stopped.length > 0) {
      actions.finish = { status: 'stopped', reason: 'a node was stopped' };
    } else {
      actions.finish = { status: 'complete' };
    }
  }
  return actions;
}

type Verdict =
  { kind: 'ready' } | { kind: 'wait' } | { kind: 'blocked'; reason: string };

function upstreamVerdict(
  node: RunGraphNode,
  statusOf: (name: string) => NodeStatus,
  graph: RunGraph,
  blocked: Map<string, string>,
): Verdict {
  let waiting = false;
  for (const name of node.upstream) {
    const status = statusOf(name);
    if (SUCCEEDED.includes(status)) continue;
    const upstream = graph.nodes.find((item) => item.name === name);
    if (status === 'error' && upstream?.onError === 'continue') continue;
    if (status === 'error' || status === 'stopped') {
      return {
        kind: 'blocked',
        reason: `upstream node "${name}" ${status === 'error' ? 'failed' : 'was stopped'}`,
      };
    }
    if (status === 'skipped' || blocked.has(name)) {
      return { kind: 'blocked', reason: `upstream node "${name}" was skipped` };
    }
    waiting = true;
  }
  return waiting ? { kind: 'wait' } : { kind: 'ready' };
}

function windDown(
  graph: RunGraph,
  statusOf: (name: string) => NodeStatus,
  actions: RunActions,
  reason: string,
): void {
  for (const node of graph.nodes) {
    const status = statusOf(node.name);
    if (status === 'pending') actions.skip.push({ node: node.name, reason });
    else if (ACTIVE.includes(status))
      actions.stop.push({ node: node.name, reason });
  }
}
