/** `ExecutionStore` on Redis: see `execution-store.ts` for the contract. */
import type { Redis } from 'ioredis';
import type { ExecutionRecord } from '../model/execution.js';
import { registerDatum, resolveDatum } from './datum-registry.js';
import {
  createExecutionScript,
  updateExecutionScript,
} from './execution-scripts.js';
import type { ExecutionStore } from './execution-store.js';
import { listIds } from './list-ids.js';
import { checkId } from './check-id.js';
import { appendLogLines, readLogLines } from './log-stream.js';
import { appendMetricsEvents, readMetricsEvents } from './metrics-list.js';
import { parseExecutionRecord } from './parse-execution-record.js';
import { fromFields, toFieldChanges } from './record-fields.js';
import { counterField, type StoreKeys } from './store-keys.js';
import { runScript } from './store-script.js';

export interface RedisExecutionStoreOptions {
  keys: StoreKeys;
  /** Log lines kept per execution (the newest). @defaultValue 100000 */
  maxLogLines?: number;
  /** Metrics events kept per execution (the newest). @defaultValue 100000 */
  maxMetricsEvents?: number;
}

const FIXED_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'repository',
  'counter',
  'runId',
  'createdAt',
]);

export function createRedisExecutionStore(
  redis: Redis,
  options: RedisExecutionStoreOptions,
): ExecutionStore {
  const { keys } = options;
  const maxLogLines = positive(options.maxLogLines, 100_000);
  const maxMetricsEvents = positive(options.maxMetricsEvents, 100_000);

  async function getExecution(id: string): Promise<ExecutionRecord | null> {
    const hash = await redis.hgetall(keys.execution(id));
    if (Object.keys(hash).length === 0) return null;
    return parseExecutionRecord(id, fromFields(hash));
  }

  return {
    async allocateCounter(repository) {
      return redis.hincrby(keys.executionCounters, repository, 1);
    },

    async createExecution(record) {
      checkId(record.id);
      const { set } = toFieldChanges({ ...record }, new Set(['id']));
      const created = await runScript(redis, createExecutionScript, {
        keys: [
          keys.execution(record.id),
          keys.executions,
          keys.executionsOfRepository(record.repository),
          keys.executionsOfRun(record.runId ?? ''),
          keys.executionsByCounter,
        ],
        args: [
          record.id,
          counterField(record.repository, record.counter),
          record.runId === undefined ? '0' : '1',
          ...set,
        ],
      });
      return Number(created) === 1;
    },

    getExecution,

    async getExecutionByCounter(repository, counter) {
      const id = await redis.hget(
        keys.executionsByCounter,
        counterField(repository, counter),
      );
      return id === null ? null : getExecution(id);
    },

    async updateExecution(id, patch, updateOptions = {}) {
      const fence = updateOptions.attempt;
      const fields: Record<string, unknown> = { ...patch };
      if (fence !== undefined) {
        // The writer's attempt becomes the fence for older writers.
        fields.attempt = Math.max(fence, Number(patch.attempt ?? fence));
      }
      const { set, remove } = toFieldChanges(fields, FIXED_FIELDS);
      const result = await runScript(redis, updateExecutionScript, {
        keys: [keys.execution(id)],
        args: [fence ?? '', set.length / 2, ...set, ...remove],
      });
      return Number(result) === 1;
    },

    async listExecutions(listOptions) {
      const indexes: string[] = [];
      if (listOptions.repository !== undefined) {
        indexes.push(keys.executionsOfRepository(listOptions.repository));
      }
      if (listOptions.runId !== undefined) {
        indexes.push(keys.executionsOfRun(listOptions.runId));
      }
      const ids = await listIds(redis, keys, {
        indexes: indexes.length > 0 ? indexes : [keys.executions],
        offset: listOptions.offset ?? 0,
        limit: listOptions.limit,
      });
      const records = await Promise.all(ids.map((id) => getExecution(id)));
      return records.filter((record) => record !== null);
    },

    appendLog(id, lines) {
      return appendLogLines(redis, {
        key: keys.log(id),
        maxLines: maxLogLines,
        lines,
      });
    },

    readLog(id, readOptions) {
      return readLogLines(redis, keys.log(id), readOptions);
    },

    appendMetrics(id, events) {
      return appendMetricsEvents(redis, {
        key: keys.metrics(id),
        maxEvents: maxMetricsEvents,
        events,
      });
    },

    readMetrics(id) {
      return readMetricsEvents(redis, keys.metrics(id));
    },

    registerDatum(datum) {
      checkId(datum.id);
      return registerDatum(redis, keys, datum);
    },

    resolveDatum(idOrAlias, resolveOptions = {}) {
      return resolveDatum(redis, keys, { idOrAlias, ...resolveOptions });
    },

    async setReuse(key, executionId) {
      await redis.set(keys.reuse(key), executionId);
    },

    findReuse(key) {
      return redis.get(keys.reuse(key));
    },
  };
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0
    ? value
    : fallback;
}
