/**
 * Where runs (a triggered pipeline or single step, with its nodes' states)
 * are kept. One implementation: Redis (`createRedisRunStore`).
 *
 * Contract:
 * - Every method may be called concurrently from many processes; each one
 *   is atomic on its own. `updateRunNode` is a read-modify-write inside
 *   Redis, so concurrent updates of different nodes never lose each other.
 * - `allocateRunCounter` then `createRun`; `createRun` is idempotent (an
 *   existing id is left as is and `false` is returned).
 * - `id`, `counter`, `repository`, `commit`, `ref`, `kind`, `name` and
 *   `createdAt` are fixed at creation (the indexes use them); a patch that
 *   names them leaves them unchanged. A patch key set to `undefined`
 *   removes that field.
 * - `updateRun` and `updateRunNode` resolve the run as stored after the
 *   call. When `attempt` is given and the node holds a newer attempt, the
 *   write is dropped and the unchanged run is returned (compare the node's
 *   `attempt` to tell). A missing run or node rejects with a `StoreError`
 *   (`NOT_FOUND`).
 * - Reads are lenient: a record written by an older kiln still loads.
 */
import type { RunNodeState, RunRecord, RunStatus } from '../model/run.js';
import type { UpdateOptions } from './execution-store.js';

export interface ListRunsOptions {
  repository?: string;
  ref?: string;
  status?: RunStatus;
  commit?: string;
  /** At most 1000. */
  limit: number;
  /** @defaultValue 0 */
  offset?: number;
}

/** Node fields to change; `name` identifies the node and can't change. */
export type RunNodePatch = Partial<Omit<RunNodeState, 'name'>>;

/** Statuses of a run that may still start or run steps. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = [
  'created',
  'waiting-approval',
  'queued',
  'running',
];

export interface RunStore {
  /** Next per-repository run counter (1, 2, …); never repeats. */
  allocateRunCounter(repository: string): Promise<number>;
  createRun(record: RunRecord): Promise<boolean>;
  getRun(id: string): Promise<RunRecord | null>;
  updateRun(id: string, patch: Partial<RunRecord>): Promise<RunRecord>;
  updateRunNode(
    runId: string,
    nodeName: string,
    patch: RunNodePatch,
    options?: UpdateOptions,
  ): Promise<RunRecord>;
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
}
