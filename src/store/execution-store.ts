/**
 * Where executions, their logs, metrics, data files (datums) and reuse keys
 * are kept. One implementation: Redis (`createRedisExecutionStore`).
 *
 * Contract:
 * - Every method may be called concurrently from many processes (server,
 *   workers, CLI); each one is atomic on its own.
 * - The executions of runs are created and closed by the run store's node
 *   transitions (`RunStore.applyNode`), with their node: nothing here
 *   writes an execution's status. `createExecution` is for executions
 *   outside runs (imports, tests); it allocates the counter and is
 *   idempotent (an existing id changes nothing and resolves `false`).
 * - Logs and metrics are appended while a step runs; an execution's last
 *   lines are stored with its end.
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
  /**
   * Only lines with a smaller `seq`, the newest `limit` of them, still in
   * ascending order (to page back from the end; `Infinity` for the last
   * lines). Ignored when `afterSeq` is given.
   */
  beforeSeq?: number;
  /** @defaultValue 1000, at most 10000 */
  limit?: number;
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
  /**
   * Stores a record with the next per-repository counter (its `counter` is
   * ignored); `false` when the id existed (nothing is changed then).
   */
  createExecution(record: ExecutionRecord): Promise<boolean>;
  getExecution(id: string): Promise<ExecutionRecord | null>;
  getExecutionByCounter(
    repository: string,
    counter: number,
  ): Promise<ExecutionRecord | null>;
  /** Newest first (in Redis' clock, so host clock skew can't reorder). */
  listExecutions(options: ListExecutionsOptions): Promise<ExecutionRecord[]>;
  /**
   * Appends a running execution's output: log lines in `seq` order (the
   * newest `maxLogLines` kept; a line whose `seq` is not above the last
   * stored one is skipped, so a retried append never duplicates) and
   * metrics events (the newest `maxMetricsEvents` kept). Resolves how many
   * lines were stored.
   */
  appendOutput(
    id: string,
    output: {
      lines?: readonly LogLine[];
      metrics?: readonly MetricsEvent[];
    },
  ): Promise<number>;
  readLog(id: string, options?: ReadLogOptions): Promise<LogLine[]>;
  /** Every kept event, ordered by time (stable for equal times). */
  readMetrics(id: string): Promise<MetricsEvent[]>;
  /**
   * Events as stored (append order) from position `from` (0 = the first
   * kept), and the position after them: a live view reads what is new.
   */
  readMetricsFrom(
    id: string,
    from: number,
  ): Promise<{ events: MetricsEvent[]; next: number }>;
  /**
   * Records that an execution read these datums (lineage: who consumed
   * an output). Idempotent.
   */
  recordConsumers(
    executionId: string,
    datumIds: readonly string[],
  ): Promise<void>;
  /** Executions that read a datum, newest first (at most `limit`). */
  listConsumers(datumId: string, limit?: number): Promise<string[]>;
  /** Idempotent per id; an alias moves to the datum registered last. */
  registerDatum(datum: DatumRecord): Promise<void>;
  /** Looks up an id first, then an alias (within `repository`). */
  resolveDatum(
    idOrAlias: string,
    options?: { repository?: string },
  ): Promise<DatumRecord | null>;
  /** The execution that produced a reusable result under `key`, if any. */
  findReuse(key: string): Promise<string | null>;
}
