/** `ExecutionStore` on Redis: see `execution-store.ts` for the contract. */
import type { Redis } from 'ioredis';
import type { ExecutionRecord } from '../model/execution.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import { registerDatum, resolveDatum } from './datum-registry.js';
import { createExecutionScript } from './execution-scripts.js';
import type { ExecutionStore } from './execution-store.js';
import { listIds } from './list-ids.js';
import { checkId } from './check-id.js';
import { appendOutput, readLogLines } from './log-stream.js';
import { readMetricsEvents, readMetricsFrom } from './metrics-list.js';
import { parseExecutionRecord } from './parse-execution-record.js';
import { parseRunRecord } from './parse-run-record.js';
import { fromFields, toFieldChanges } from './record-fields.js';
import { runScript } from './store-script.js';

export interface RedisExecutionStoreOptions {
  keys: RedisKeys;
  /** Log lines kept per execution (the newest). @defaultValue 100000 */
  maxLogLines?: number;
  /** Metrics events kept per execution (the newest). @defaultValue 100000 */
  maxMetricsEvents?: number;
}

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

  async function getExecutions(ids: readonly string[]) {
    const records = await Promise.all(ids.map((id) => getExecution(id)));
    return records.filter((record) => record !== null);
  }

  return {
    async createExecution(record) {
      checkId(record.id);
      const { set } = toFieldChanges({ ...record }, new Set(['id', 'counter']));
      const counter = await runScript(redis, createExecutionScript, {
        keys: [
          keys.execution(record.id),
          keys.executions,
          keys.executionsOfRepository(record.repository),
          keys.executionCounters,
        ],
        args: [
          record.id,
          record.repository,
          'id',
          JSON.stringify(record.id),
          ...set,
        ],
      });
      return Number(counter) > 0;
    },

    getExecution,

    async getExecutionByCounter(repository, counter) {
      const [id] = await redis.zrangebyscore(
        keys.executionsOfRepository(repository),
        counter,
        counter,
        'LIMIT',
        0,
        1,
      );
      return id === undefined ? null : getExecution(id);
    },

    async listExecutions(listOptions) {
      if (listOptions.runId !== undefined) {
        // A run's executions are its nodes' attempts, newest first.
        const hash = await redis.hgetall(keys.run(listOptions.runId));
        if (Object.keys(hash).length === 0) return [];
        const run = parseRunRecord(listOptions.runId, hash);
        const ids: string[] = [];
        for (const node of run.nodes) {
          for (let attempt = node.attempt; attempt >= 1; attempt -= 1) {
            ids.push(`${run.id}-${node.index}-${attempt}`);
          }
          if (node.executionId && !ids.includes(node.executionId)) {
            ids.push(node.executionId);
          }
        }
        const records = (await getExecutions(ids)).filter(
          (record) =>
            listOptions.repository === undefined ||
            record.repository === listOptions.repository,
        );
        records.sort((a, b) => b.counter - a.counter);
        const offset = listOptions.offset ?? 0;
        return records.slice(
          offset,
          offset + Math.min(listOptions.limit, 1000),
        );
      }
      const ids = await listIds(redis, keys, {
        indexes: [
          listOptions.repository !== undefined
            ? keys.executionsOfRepository(listOptions.repository)
            : keys.executions,
        ],
        offset: listOptions.offset ?? 0,
        limit: listOptions.limit,
      });
      return getExecutions(ids);
    },

    appendOutput(id, output) {
      return appendOutput(redis, {
        logKey: keys.log(id),
        metricsKey: keys.metrics(id),
        maxLines: maxLogLines,
        maxEvents: maxMetricsEvents,
        lines: output.lines ?? [],
        metrics: output.metrics ?? [],
      });
    },

    readLog(id, readOptions) {
      return readLogLines(redis, keys.log(id), readOptions);
    },

    readMetrics(id) {
      return readMetricsEvents(redis, keys.metrics(id));
    },

    readMetricsFrom(id, from) {
      return readMetricsFrom(redis, keys.metrics(id), from);
    },

    async recordConsumers(executionId, datumIds) {
      checkId(executionId);
      if (datumIds.length === 0) return;
      const transaction = redis.multi();
      const score = Date.now();
      for (const datumId of new Set(datumIds)) {
        checkId(datumId);
        // NX: the first read is the one that counts for the order.
        transaction.zadd(
          keys.datumConsumers(datumId),
          'NX',
          score,
          executionId,
        );
      }
      await transaction.exec();
    },

    listConsumers(datumId, limit = 200) {
      checkId(datumId);
      return redis.zrevrange(
        keys.datumConsumers(datumId),
        0,
        Math.min(Math.max(1, limit), 1000) - 1,
      );
    },

    registerDatum(datum) {
      checkId(datum.id);
      return registerDatum(redis, keys, datum);
    },

    resolveDatum(idOrAlias, resolveOptions = {}) {
      return resolveDatum(redis, keys, { idOrAlias, ...resolveOptions });
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
