/**
 * Where runs are kept: a header, one record per node, and the run's event
 * stream. One implementation: Redis (`createRedisRunStore`).
 *
 * Contract:
 * - Run and node status change only through `applyNode` and `applyRun`,
 *   each one atomic compare-and-set of the state its caller computed the
 *   change from with the machines of `orchestrator/` (who decides) — the
 *   store never decides a status. A change computed from a state that is no
 *   longer stored is refused (`moved`) with the stored state, so the caller
 *   recomputes or drops it; nothing is half applied.
 * - The cost of a node change does not grow with the size of the run: a
 *   node is one field, successors are counted down, not re-read.
 * - Every applied change appends to the run's event stream (and status
 *   changes to the global stream) in the same step: a consumer that reads
 *   the streams sees every change, in order, once.
 * - `allocateRunCounter` then `createRun`; `createRun` is idempotent (an
 *   existing id is left as is and `false` is returned).
 * - Every method may be called concurrently from many processes.
 * - Reads are lenient: a record written by an older kiln still loads.
 */
import type { ExecutionRecord, MetricsEvent } from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';
import type { StoredRunEvent } from '../model/run-event.js';
import type { RunNodeState, RunRecord, RunStatus } from '../model/run.js';
import type { RunControl } from '../orchestrator/run-machine.js';
import type { DatumRecord } from './execution-store.js';
import type { TaskStore } from './task-store.js';

export interface ListRunsOptions {
  repository?: string;
  ref?: string;
  status?: RunStatus;
  /** A full SHA, or a prefix of at least 7 characters. */
  commit?: string;
  /** Pushes to this branch and pull requests from it. */
  branch?: string;
  /** At most 1000. */
  limit: number;
  /** @defaultValue 0 */
  offset?: number;
}

/** What a change is compared against: a node's identity of state. */
export type NodeVersion = Pick<
  RunNodeState,
  'status' | 'attempt' | 'generation' | 'phase'
>;

export interface NodeChange {
  runId: string;
  /** ISO time of the change (the event's `at`). */
  at: string;
  /** The state the change was computed from (compared before applying). */
  from: RunNodeState;
  to: RunNodeState;
  /** Refused (`run`) unless the run's status is one of these. */
  runIn?: readonly RunStatus[];
  /** The run moves to `to` if its status is in `from` (a first claim). */
  start?: { from: readonly RunStatus[]; to: RunStatus };
  /** Successors counted down; those ready and still pending are queued. */
  release?: ReadonlyArray<{
    name: string;
    waits: number;
    queued: RunNodeState;
  }>;
  /** Nodes skipped when still pending (they can never run). */
  block?: readonly RunNodeState[];
  /** Counts toward the run's final status. */
  tally?: 'failed' | 'stopped';
  /** Create the attempt's execution record (its counter is allocated here). */
  createExecution?: Omit<ExecutionRecord, 'counter'>;
  /** Patch the execution record (only if it exists when `guard`). */
  updateExecution?: {
    id: string;
    patch: Partial<ExecutionRecord>;
    guard: boolean;
  };
  /** Close other executions (an attempt taken over), if they exist. */
  closeOthers?: ReadonlyArray<{ id: string; patch: Partial<ExecutionRecord> }>;
  /** The last output of the execution, stored with its end. */
  output?: {
    executionId: string;
    lines: readonly LogLine[];
    metrics: readonly MetricsEvent[];
  };
  /** The execution can be reused under this key. */
  reuse?: { key: string; executionId: string };
  /** Data files the execution produced (registered with its end). */
  datums?: readonly DatumRecord[];
  /** Stop requests for workers holding executions. */
  stop?: readonly StopRequest[];
}

export type NodeChangeResult =
  | {
      code: 'ok';
      /** The run's status after the change. */
      status: RunStatus;
      /** Nodes of the run not yet terminal. */
      left: number;
      failed: number;
      stopped: number;
      /** Successors this change queued. */
      queued: string[];
      skipped: string[];
      /** The new execution's counter, when one was created. */
      counter?: number;
    }
  | { code: 'moved' | 'run'; node: RunNodeState; status: RunStatus }
  | { code: 'missing' };

export interface RunChange {
  runId: string;
  /** ISO time of the change. */
  at: string;
  /** The run's status the change was computed from. */
  from: RunStatus;
  /** New run fields (status, reason, times); `undefined` removes a field. */
  run?: Partial<RunControl>;
  nodes: ReadonlyArray<{
    from: RunNodeState;
    to: RunNodeState;
    terminal: boolean;
    tally?: 'failed' | 'stopped';
  }>;
  /** Patches of existing execution records (closing them). */
  executions?: ReadonlyArray<{ id: string; patch: Partial<ExecutionRecord> }>;
  stop?: readonly StopRequest[];
}

export type RunChangeResult =
  | { code: 'ok'; status: RunStatus; left: number }
  | { code: 'moved'; status: RunStatus }
  | { code: 'missing' };

/** Asks the worker holding an execution to stop it (control stream). */
export interface StopRequest {
  runId: string;
  node: string;
  executionId: string;
  worker?: string;
  reason: string;
}

export interface ReadEventsOptions {
  /** Only events after this stream id. @defaultValue from the start */
  after?: string;
  /** @defaultValue 500 */
  count?: number;
  /** Wait up to this long for new events when none are there. */
  blockMs?: number;
}

export interface CreateRunInit {
  /** Upstream counts of nodes with several upstream nodes. */
  waits: Readonly<Record<string, number>>;
  /** Nodes created queued, and skipped (for the first events). */
  queued: readonly string[];
  skipped: readonly string[];
}

/** Task children: `task-store.ts`. */
export interface RunStore extends TaskStore {
  /** Next per-repository run counter (1, 2, …); never repeats. */
  allocateRunCounter(repository: string): Promise<number>;
  createRun(record: RunRecord, init: CreateRunInit): Promise<boolean>;
  getRun(id: string): Promise<RunRecord | null>;
  /** The run without its nodes (`nodes` is empty): cheap for any size. */
  getRunHeader(id: string): Promise<RunRecord | null>;
  getNodes(
    runId: string,
    names: readonly string[],
  ): Promise<Array<RunNodeState | null>>;
  applyNode(change: NodeChange): Promise<NodeChangeResult>;
  applyRun(change: RunChange): Promise<RunChangeResult>;
  /** Newest first; filters combine with AND. */
  listRuns(options: ListRunsOptions): Promise<RunRecord[]>;
  /**
   * Runs of one pipeline on one ref that are not finished, newest first
   * (to supersede older ones when a new push arrives).
   */
  activeRunsFor(
    repository: string,
    ref: string,
    name: string,
  ): Promise<RunRecord[]>;
  /** A run's events in order. */
  readRunEvents(
    runId: string,
    options?: ReadEventsOptions,
  ): Promise<StoredRunEvent[]>;
  /** Every run's status changes in order. */
  readEvents(options?: ReadEventsOptions): Promise<StoredRunEvent[]>;
  /**
   * The id of the newest event ('0-0' when none) of a run's stream, or of
   * the global one: read it before the state you show, follow from it.
   */
  lastEventId(runId?: string): Promise<string>;
}
