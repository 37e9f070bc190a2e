/**
 * What changed in a run, as appended to its event stream by the one path
 * that writes run state (the store's transition scripts). Every view —
 * the run page, the runs list, the reporter, `kiln run`, `kiln events` —
 * follows these instead of re-reading whole records.
 *
 * A run's stream holds every kind; the global stream holds `run` events
 * only (a list of runs needs their states, not every step's).
 */
import type { NodePhase, NodeStatus, RunStatus } from './run.js';

export interface RunStatusEvent {
  kind: 'run';
  runId: string;
  status: RunStatus;
  reason?: string;
  /** Enough to place the run in a list without reading it. */
  repository: string;
  ref?: string;
  name: string;
  counter: number;
  at: string;
}

export interface NodeChangeEvent {
  kind: 'node';
  runId: string;
  node: string;
  status: NodeStatus;
  phase?: NodePhase;
  attempt: number;
  executionId?: string;
  message?: string;
  at: string;
}

/** Several nodes changed at once (queued by a fan-out, skipped, stopped). */
export interface NodesChangeEvent {
  kind: 'nodes';
  runId: string;
  status: NodeStatus;
  nodes: string[];
  message?: string;
  at: string;
}

export type RunEvent = RunStatusEvent | NodeChangeEvent | NodesChangeEvent;

/** An event with its stream id (`<ms>-<seq>`): resume after it. */
export interface StoredRunEvent {
  id: string;
  event: RunEvent;
}
