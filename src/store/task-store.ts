/**
 * The part of the run store that keeps a task's children: creating a batch
 * of them atomically with the change of the node that creates it, and
 * reading what a child was created with. Children are ordinary nodes of
 * the run (`n:<task>#<k>`), changed through `applyNode` like any other.
 *
 * Contract: as `RunStore` — a compare-and-set on the creating node's
 * state; refused (`moved`) when it changed or the batch already exists;
 * any process, any time; the cost of a child's change does not depend on
 * how many children the task has.
 */
import type { RunNodeState, RunStatus } from '../model/run.js';
import type { TaskChildSpec } from '../orchestrator/task/task-children.js';

export interface TaskExpansion {
  runId: string;
  /** ISO time of the change. */
  at: string;
  /** The creating node (the task node, or the previous batch's join). */
  from: RunNodeState;
  to: RunNodeState;
  /** Refused (`run`) unless the run's status is one of these. */
  runIn?: readonly RunStatus[];
  /** The task node the children belong to. */
  task: string;
  /** Queued or pending, each with its spec. */
  children: ReadonlyArray<{ state: RunNodeState; spec: TaskChildSpec }>;
  /** The batch's join: pending, waiting for `waits` children. */
  join: { state: RunNodeState; waits: number };
}

export type TaskExpansionResult =
  | {
      code: 'ok';
      status: RunStatus;
      left: number;
      /** The task's children after this batch. */
      children: number;
    }
  | { code: 'moved' | 'run'; node: RunNodeState; status: RunStatus }
  | { code: 'missing' };

export interface TaskStore {
  expandTask(change: TaskExpansion): Promise<TaskExpansionResult>;
  /** What each child was created with (null: no such child). */
  getChildSpecs(
    runId: string,
    names: readonly string[],
  ): Promise<Array<TaskChildSpec | null>>;
  /** Children a task node has created so far (0 before it expands). */
  countTaskChildren(runId: string, task: string): Promise<number>;
  /**
   * A distributed task's member says where it runs (its entry in
   * distributed.json); a later attempt of the same member replaces it.
   */
  announceMember(
    runId: string,
    task: string,
    memberId: string,
    member: Record<string, unknown>,
  ): Promise<void>;
  /** The members announced so far, by member id. */
  listMembers(
    runId: string,
    task: string,
    memberIds: readonly string[],
  ): Promise<Array<Record<string, unknown> | null>>;
}
