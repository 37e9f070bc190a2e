/**
 * Where executions, their logs, metrics, data files (datums) and reuse keys
 * are kept. One implementation: Redis (`createRedisExecutionStore`).
 *
 * Contract:
 * - Every method may be called concurrently from many processes (server,
 *   workers, CLI); each one is atomic on its own.
 * - `allocateCounter` then `createExecution`: the counter is taken first so
 *   the record carries it. A crash in between only leaves a gap (#41, #43).
 * - `createExecution` is idempotent: creating an existing id changes nothing
 *   and resolves `false`, so a retried job can call it again.
 * - Workers pass their attempt to `updateExecution`: it is a fencing token.
 *   A write from an attempt older than the stored one is dropped, so a
 *   worker that lost its job lock can't overwrite its successor's result.
 * - `repository`, `counter`, `runId` and `createdAt` are fixed at creation
 *   (the indexes use them); a patch that names them leaves them unchanged.
 * - A patch key whose value is `undefined` removes that field.
 * - Reads are lenient: a record written by an older kiln still loads, with
 *   defaults for fields it lacks.
 * - Redis being unreachable rejects with ioredis' own errors; nothing here
 *   retries, the caller (BullMQ) does.
 */
import type { ExecutionRecord, MetricsEvent } from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';

export interface ListExecutionsOptions {
  repository?: string;
  runId?: string;
  /** At most 1000. */
  limit: number;
  /** @defaultValue 0 */
  offset?: number;
}

export interface ReadLogOptions {
  /** Only lines with a greater `seq` (to follow a log). */
  afterSeq?: number;
  /** @defaultValue 1000, at most 10000 */
  limit?: number;
}

export interface UpdateOptions {
  /**
   * The writer's attempt: the write applies only when the stored attempt is
   * not newer, and then the stored attempt becomes this one.
   */
  attempt?: number;
}

/** A stored output file that later executions read as `datum://<id>`. */
export interface DatumRecord {
  id: string;
  sha256: string;
  size: number;
  /** Path relative to /valohai/outputs of the execution that made it. */
  path: string;
  executionId: string;
  /** Scopes the alias: one repository can't move another's alias. */
  repository?: string;
  alias?: string;
  /** Set by the store when missing. */
  createdAt?: string;
}

export interface ExecutionStore {
  /** Next per-repository counter (1, 2, …); never repeats. */
  allocateCounter(repository: string): Promise<number>;
  /** `false` when the id existed (nothing is changed then). */
  createExecution(record: ExecutionRecord): Promise<boolean>;
  getExecution(id: string): Promise<ExecutionRecord | null>;
  getExecutionByCounter(
    repository: string,
    counter: number,
  ): Promise<ExecutionRecord | null>;
  /**
   * `false` when the execution doesn't exist or the write was fenced out
   * (a newer attempt is stored).
   */
  updateExecution(
    id: string,
    patch: Partial<ExecutionRecord>,
    options?: UpdateOptions,
  ): Promise<boolean>;
  /** Newest first (in Redis' clock, so host clock skew can't reorder). */
  listExecutions(options: ListExecutionsOptions): Promise<ExecutionRecord[]>;
  /**
   * Appends in `seq` order and keeps the newest lines only (the store's
   * `maxLogLines`). Lines whose `seq` is not above the last stored one are
   * skipped, so a retried append never duplicates. Returns how many were
   * stored.
   */
  appendLog(id: string, lines: readonly LogLine[]): Promise<number>;
  readLog(id: string, options?: ReadLogOptions): Promise<LogLine[]>;
  /** Keeps the newest events only (the store's `maxMetricsEvents`). */
  appendMetrics(id: string, events: readonly MetricsEvent[]): Promise<void>;
  /** Every kept event, ordered by time (stable for equal times). */
  readMetrics(id: string): Promise<MetricsEvent[]>;
  /** Idempotent per id; an alias moves to the datum registered last. */
  registerDatum(datum: DatumRecord): Promise<void>;
  /** Looks up an id first, then an alias (within `repository`). */
  resolveDatum(
    idOrAlias: string,
    options?: { repository?: string },
  ): Promise<DatumRecord | null>;
  /** Remembers the execution that produced a reusable result. */
  setReuse(key: string, executionId: string): Promise<void>;
  findReuse(key: string): Promise<string | null>;
}
