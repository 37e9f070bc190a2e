/** `RunStore` on Redis: see `run-store.ts` for the contract. */
import type { Redis } from 'ioredis';
import type { StoredRunEvent } from '../model/run-event.js';
import type { RunNodeState, RunRecord, RunStatus } from '../model/run.js';
import {
  ACTIVE_RUN_STATUSES,
  isFinalRunStatus,
} from '../orchestrator/run-machine.js';
import { isTerminalNode } from '../orchestrator/node-machine.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import { checkId } from './check-id.js';
import { listIds } from './list-ids.js';
import { parseRunEvent } from './parse-run-event.js';
import { parseNodeState, parseRunRecord } from './parse-run-record.js';
import { toFieldChanges } from './record-fields.js';
import { encodeNode } from './encode-node.js';
import { toStoredJson } from './to-stored-json.js';
import {
  applyNodeScript,
  applyRunScript,
  createRunScript,
} from './run-scripts.js';
import type {
  NodeChangeResult,
  ReadEventsOptions,
  RunChangeResult,
  RunStore,
  StopRequest,
} from './run-store.js';
import { runScript } from './store-script.js';
import { createRedisTaskStore } from './redis-task-store.js';

/** Header fields: everything of a run but its nodes. */
const HEADER_FIELDS = [
  'id',
  'counter',
  'repository',
  'commit',
  'ref',
  'kind',
  'name',
  'status',
  'parameters',
  'trigger',
  'reason',
  'findings',
  'createdAt',
  'startedAt',
  'endedAt',
  'supersededBy',
  'source',
  'config',
  'queue',
  'trusted',
  'runtime',
] as const;

export interface RedisRunStoreOptions {
  keys: RedisKeys;
  /** Events kept per run (approximately). @defaultValue 50000 */
  maxRunEvents?: number;
  /** Events kept in the global stream (approximately). @defaultValue 100000 */
  maxEvents?: number;
  /** Log lines kept per execution. @defaultValue 100000 */
  maxLogLines?: number;
  /** Metrics events kept per execution. @defaultValue 100000 */
  maxMetricsEvents?: number;
}

export function createRedisRunStore(
  redis: Redis,
  options: RedisRunStoreOptions,
): RunStore {
  const { keys } = options;
  const maxRunEvents = options.maxRunEvents ?? 50_000;
  const maxEvents = options.maxEvents ?? 100_000;
  const maxLogLines = options.maxLogLines ?? 100_000;
  const maxMetrics = options.maxMetricsEvents ?? 100_000;

  async function getRun(id: string): Promise<RunRecord | null> {
    const hash = await redis.hgetall(keys.run(id));
    if (Object.keys(hash).length === 0) return null;
    return parseRunRecord(id, hash);
  }

  /** The run's identity for index moves and events. */
  function runContext(
    run: Pick<RunRecord, 'id' | 'repository' | 'ref' | 'name' | 'counter'>,
    at: string,
  ) {
    return {
      runId: run.id,
      repository: run.repository,
      ...(run.ref !== undefined ? { ref: run.ref } : {}),
      name: run.name,
      counter: run.counter,
      at,
      statusPrefix: keys.runsOfStatusPrefix,
      runsKey: keys.runs,
      activeKey: keys.activeRuns(run.repository, run.ref ?? '', run.name),
      active: ACTIVE_RUN_STATUSES,
      globalKey: keys.events,
      maxEvents: maxRunEvents,
      maxGlobal: maxEvents,
    };
  }

  const headers = new Map<string, RunRecord>();
  /** Identity fields never change: cached per process. */
  async function identity(runId: string): Promise<RunRecord | null> {
    const cached = headers.get(runId);
    if (cached) return cached;
    const header = await getRunHeader(runId);
    if (!header) return null;
    if (headers.size > 1000) headers.clear();
    headers.set(runId, header);
    return header;
  }

  async function getRunHeader(id: string): Promise<RunRecord | null> {
    const values = await redis.hmget(keys.run(id), ...HEADER_FIELDS);
    const hash: Record<string, string> = {};
    HEADER_FIELDS.forEach((field, index) => {
      const value = values[index];
      if (value !== null && value !== undefined) hash[field] = value;
    });
    if (Object.keys(hash).length === 0) return null;
    return parseRunRecord(id, hash);
  }

  function stopMessages(stop: readonly StopRequest[] | undefined): string[] {
    return (stop ?? []).map((request) => toStoredJson(request));
  }

  return {
    ...createRedisTaskStore(redis, { keys, maxRunEvents }),

    async allocateRunCounter(repository) {
      return redis.hincrby(keys.runCounters, repository, 1);
    },

    async createRun(record, init) {
      checkId(record.id);
      const { nodes, ...header } = record;
      const { set } = toFieldChanges(header, new Set(['id']));
      const fields = ['id', JSON.stringify(record.id), ...set];
      for (const node of nodes) fields.push(`n:${node.name}`, encodeNode(node));
      for (const [name, waits] of Object.entries(init.waits)) {
        fields.push(`w:${name}`, String(waits));
      }
      const left = nodes.filter((node) => !isTerminalNode(node.status)).length;
      const indexes = [
        keys.runs,
        keys.runsOfRepository(record.repository),
        keys.runsOfCommit(record.commit),
        keys.runsOfStatusPrefix + record.status,
      ];
      if (record.ref !== undefined) indexes.push(keys.runsOfRef(record.ref));
      // For the lists' filters: a branch's pushes and pull requests, and
      // a commit by its short SHA.
      const branch = record.ref?.startsWith('refs/heads/')
        ? record.ref.slice('refs/heads/'.length)
        : record.trigger?.headRef;
      if (branch) indexes.push(keys.runsOfBranch(branch));
      if (record.commit.length >= 7)
        indexes.push(keys.runsOfShortCommit(record.commit));
      const created = await runScript(redis, createRunScript, {
        keys: [keys.run(record.id), keys.runEvents(record.id), keys.events],
        args: [
          toStoredJson({
            ...runContext(record, record.createdAt),
            fields,
            indexes,
            active: !isFinalRunStatus(record.status),
            left,
            status: record.status,
            ...(record.reason !== undefined ? { reason: record.reason } : {}),
            queued: init.queued,
            skipped: init.skipped,
          }),
        ],
      });
      return Number(created) === 1;
    },

    getRun,
    getRunHeader,

    async getNodes(runId, names) {
      if (names.length === 0) return [];
      const values = await redis.hmget(
        keys.run(runId),
        ...names.map((name) => `n:${name}`),
      );
      return values.map((value) =>
        value === null || value === undefined ? null : parseNodeState(value),
      );
    },

    async applyNode(change): Promise<NodeChangeResult> {
      const run = await identity(change.runId);
      if (!run) return { code: 'missing' };
      const { at } = change;
      const execution =
        change.createExecution?.id ??
        change.updateExecution?.id ??
        change.output?.executionId ??
        '';
      // Texts go as ARGV of their own (see the script): no double encoding.
      const head: Record<string, unknown> = {
        node: change.to.name,
        terminal:
          isTerminalNode(change.to.status) &&
          !isTerminalNode(change.from.status),
        runId: change.runId,
        at,
        maxEvents: maxRunEvents,
        release: change.release?.length ?? 0,
        block: change.block?.length ?? 0,
        execFields: 0,
        logs: 0,
        metrics: 0,
      };
      const args: Array<string | number> = [
        '',
        encodeNode(change.from),
        encodeNode(change.to),
        toStoredJson({
          kind: 'node',
          runId: change.runId,
          node: change.to.name,
          status: change.to.status,
          ...(change.to.phase ? { phase: change.to.phase } : {}),
          attempt: change.to.attempt,
          ...(change.to.executionId
            ? { executionId: change.to.executionId }
            : {}),
          ...(change.to.message ? { message: change.to.message } : {}),
          at,
        }),
      ];
      if (change.runIn) head.runIn = change.runIn;
      if (change.start) {
        head.start = { ...change.start, at };
        head.ctx = runContext(run, at);
      }
      if (change.tally) head.tally = change.tally;
      for (const item of change.release ?? []) {
        args.push(item.name, item.waits, encodeNode(item.queued));
      }
      for (const node of change.block ?? []) {
        args.push(node.name, encodeNode(node));
      }
      let execFields: string[] = [];
      if (change.createExecution) {
        execFields = toFieldChanges(
          change.createExecution,
          new Set(['counter']),
        ).set;
        head.exec = 'create';
        head.execId = change.createExecution.id;
        head.repository = run.repository;
      } else if (change.updateExecution) {
        execFields = toFieldChanges(
          change.updateExecution.patch,
          FIXED_EXECUTION_FIELDS,
        ).set;
        if (execFields.length > 0) {
          head.exec = 'update';
          if (change.updateExecution.guard) head.execGuard = true;
        }
      }
      head.execFields = execFields.length;
      args.push(...execFields);
      if (change.closeOthers?.length) {
        head.others = change.closeOthers.map((item) => [
          keys.execution(item.id),
          ...toFieldChanges(item.patch, FIXED_EXECUTION_FIELDS).set,
        ]);
      }
      if (change.output) {
        const { lines, metrics } = change.output;
        if (lines.length > 0) {
          head.logs = lines.length;
          head.maxLog = maxLogLines;
          for (const line of lines) {
            args.push(line.seq, line.time, line.stream, line.text);
          }
        }
        if (metrics.length > 0) {
          head.metrics = metrics.length;
          head.maxMetrics = maxMetrics;
          for (const event of metrics) args.push(toStoredJson(event));
        }
      }
      if (change.reuse) head.reuse = change.reuse.executionId;
      if (change.datums?.length) {
        head.datums = change.datums.map((datum) => {
          const record = { ...datum, createdAt: datum.createdAt ?? at };
          const entry: unknown[] = [keys.datum(datum.id), toStoredJson(record)];
          if (datum.alias)
            entry.push(
              keys.datumAlias(datum.repository, datum.alias),
              datum.id,
            );
          return entry;
        });
      }
      const stop = stopMessages(change.stop);
      if (stop.length > 0) head.stop = stop;
      args[0] = toStoredJson(head);
      const raw = await runScript(redis, applyNodeScript, {
        keys: [
          keys.run(change.runId),
          keys.runEvents(change.runId),
          keys.execution(execution),
          keys.executions,
          keys.executionsOfRepository(run.repository),
          keys.executionCounters,
          keys.log(execution),
          keys.metrics(execution),
          change.reuse ? keys.reuse(change.reuse.key) : keys.reuse(''),
          keys.control,
        ],
        args,
      });
      const result = JSON.parse(String(raw)) as Record<string, unknown>;
      if (result.code === 'ok') {
        return {
          code: 'ok',
          status: result.status as RunStatus,
          left: Number(result.left),
          failed: Number(result.failed),
          stopped: Number(result.stopped),
          queued: asStrings(result.queued),
          skipped: asStrings(result.skipped),
          ...(result.counter !== undefined
            ? { counter: Number(result.counter) }
            : {}),
        };
      }
      if (result.code === 'moved' || result.code === 'run') {
        return {
          code: result.code,
          node: parseNodeState(String(result.node)) as RunNodeState,
          status: result.status as RunStatus,
        };
      }
      return { code: 'missing' };
    },

    async applyRun(change): Promise<RunChangeResult> {
      const run = await identity(change.runId);
      if (!run) return { code: 'missing' };
      const { at } = change;
      const { set, remove } = toFieldChanges(
        change.run ?? {},
        new Set(['status']),
      );
      const events: string[] = [];
      const byStatus = new Map<string, string[]>();
      for (const node of change.nodes) {
        const list = byStatus.get(node.to.status) ?? [];
        list.push(node.to.name);
        byStatus.set(node.to.status, list);
      }
      for (const [status, names] of byStatus) {
        events.push(
          toStoredJson({
            kind: 'nodes',
            runId: change.runId,
            status,
            nodes: names,
            ...(change.run?.reason ? { message: change.run.reason } : {}),
            at,
          }),
        );
      }
      const payload: Record<string, unknown> = {
        ...runContext(run, at),
        from: change.from,
        fields: set,
        remove,
        nodes: change.nodes.map((node) => {
          const entry: unknown[] = [
            node.to.name,
            encodeNode(node.from),
            encodeNode(node.to),
            node.terminal,
          ];
          if (node.tally) entry.push(node.tally);
          return entry;
        }),
        execs: (change.executions ?? []).map((item) => [
          keys.execution(item.id),
          ...toFieldChanges(item.patch, FIXED_EXECUTION_FIELDS).set,
        ]),
        stop: stopMessages(change.stop),
        events,
      };
      if (change.run?.status !== undefined) payload.to = change.run.status;
      if (change.run?.reason) payload.reason = change.run.reason;
      const raw = await runScript(redis, applyRunScript, {
        keys: [
          keys.run(change.runId),
          keys.runEvents(change.runId),
          keys.control,
        ],
        args: [toStoredJson(payload)],
      });
      const result = JSON.parse(String(raw)) as Record<string, unknown>;
      if (result.code === 'ok') {
        return {
          code: 'ok',
          status: result.status as RunStatus,
          left: Number(result.left),
        };
      }
      if (result.code === 'moved')
        return { code: 'moved', status: result.status as RunStatus };
      return { code: 'missing' };
    },

    async listRuns(listOptions) {
      const indexes: string[] = [];
      if (listOptions.repository !== undefined)
        indexes.push(keys.runsOfRepository(listOptions.repository));
      if (listOptions.ref !== undefined)
        indexes.push(keys.runsOfRef(listOptions.ref));
      if (listOptions.commit !== undefined)
        indexes.push(
          listOptions.commit.length >= 40
            ? keys.runsOfCommit(listOptions.commit)
            : keys.runsOfShortCommit(listOptions.commit),
        );
      if (listOptions.branch !== undefined)
        indexes.push(keys.runsOfBranch(listOptions.branch));
      if (listOptions.status !== undefined)
        indexes.push(keys.runsOfStatusPrefix + listOptions.status);
      const ids = await listIds(redis, keys, {
        indexes: indexes.length > 0 ? indexes : [keys.runs],
        offset: listOptions.offset ?? 0,
        limit: listOptions.limit,
      });
      const runs = await Promise.all(ids.map((id) => getRun(id)));
      const prefix = listOptions.commit;
      // Seven characters share an index: the rest of a prefix filters.
      return runs.filter(
        (run): run is RunRecord =>
          run !== null &&
          (prefix === undefined || run.commit.startsWith(prefix)),
      );
    },

    async activeRunsFor(repository, ref, name) {
      const ids = await listIds(redis, keys, {
        indexes: [keys.activeRuns(repository, ref, name)],
        offset: 0,
        limit: 1000,
      });
      const runs = await Promise.all(ids.map((id) => getRunHeader(id)));
      return runs.filter(
        (run): run is RunRecord =>
          run !== null && !isFinalRunStatus(run.status),
      );
    },

    readRunEvents(runId, readOptions) {
      return readStream(redis, keys.runEvents(runId), readOptions);
    },

    readEvents(readOptions) {
      return readStream(redis, keys.events, readOptions);
    },

    async lastEventId(runId) {
      const key = runId === undefined ? keys.events : keys.runEvents(runId);
      const [last] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
      return last?.[0] ?? '0-0';
    },
  };
}

const FIXED_EXECUTION_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'repository',
  'counter',
  'runId',
  'createdAt',
]);

async function readStream(
  redis: Redis,
  key: string,
  options: ReadEventsOptions = {},
): Promise<StoredRunEvent[]> {
  const count = Math.min(Math.max(options.count ?? 500, 1), 10_000);
  const after = options.after ?? '0-0';
  const entries =
    options.blockMs === undefined
      ? await redis.xrange(key, `(${after}`, '+', 'COUNT', count)
      : ((
          await redis.xread(
            'COUNT',
            count,
            'BLOCK',
            options.blockMs,
            'STREAMS',
            key,
            after,
          )
        )?.[0]?.[1] ?? []);
  return entries.flatMap(([id, fields]) => {
    const event = parseRunEvent(fields);
    return event ? [{ id, event }] : [];
  });
}

function asStrings(value: unknown): string[] {
  // cjson encodes an empty Lua table as {}, not [].
  return Array.isArray(value) ? value.map(String) : [];
}
