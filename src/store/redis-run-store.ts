/** `RunStore` on Redis: see `run-store.ts` for the contract. */
import type { Redis } from 'ioredis';
import type { RunRecord, RunStatus } from '../model/run.js';
import { checkId } from './check-id.js';
import { listIds } from './list-ids.js';
import { parseRunRecord } from './parse-run-record.js';
import { fromFields, pairsToObject, toFieldChanges } from './record-fields.js';
import {
  createRunScript,
  updateRunNodeScript,
  updateRunScript,
} from './run-scripts.js';
import { ACTIVE_RUN_STATUSES, type RunStore } from './run-store.js';
import { StoreError } from './store-error.js';
import type { StoreKeys } from './store-keys.js';
import { runScript } from './store-script.js';

const FIXED_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'counter',
  'repository',
  'commit',
  'ref',
  'kind',
  'name',
  'createdAt',
]);

const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function createRedisRunStore(
  redis: Redis,
  options: { keys: StoreKeys },
): RunStore {
  const { keys } = options;

  async function getRun(id: string): Promise<RunRecord | null> {
    const hash = await redis.hgetall(keys.run(id));
    if (Object.keys(hash).length === 0) return null;
    return parseRunRecord(id, fromFields(hash));
  }

  function toRun(id: string, pairs: unknown): RunRecord {
    const hash = pairsToObject(Array.isArray(pairs) ? pairs : []);
    return parseRunRecord(id, fromFields(hash));
  }

  return {
    async allocateRunCounter(repository) {
      return redis.hincrby(keys.runCounters, repository, 1);
    },

    async createRun(record) {
      checkId(record.id);
      const { set } = toFieldChanges(withCleanNodes(record), new Set(['id']));
      const created = await runScript(redis, createRunScript, {
        keys: [
          keys.run(record.id),
          keys.runs,
          keys.runsOfRepository(record.repository),
          keys.runsOfRef(record.ref ?? ''),
          keys.runsOfCommit(record.commit),
          keys.runsOfStatusPrefix + record.status,
          keys.activeRuns(record.repository, record.ref ?? '', record.name),
        ],
        args: [
          record.id,
          isActive(record.status) ? '1' : '0',
          record.ref === undefined ? '0' : '1',
          ...set,
        ],
      });
      return Number(created) === 1;
    },

    getRun,

    async updateRun(id, patch) {
      const [repository, ref, name] = await redis.hmget(
        keys.run(id),
        'repository',
        'ref',
        'name',
      );
      if (repository === null || repository === undefined)
        throw notFound(`run ${id}`);
      const group = keys.activeRuns(
        parseString(repository),
        parseString(ref),
        parseString(name),
      );
      const { set, remove } = toFieldChanges(
        withCleanNodes(patch),
        FIXED_FIELDS,
      );
      const status = patch.status;
      const [code, pairs] = (await runScript(redis, updateRunScript, {
        keys: [keys.run(id), keys.runs, group],
        args: [
          id,
          keys.runsOfStatusPrefix,
          status ?? '',
          status !== undefined && isActive(status) ? '1' : '0',
          set.length / 2,
          ...set,
          ...remove,
        ],
      })) as [number, unknown];
      if (Number(code) !== 1) throw notFound(`run ${id}`);
      return toRun(id, pairs);
    },

    async updateRunNode(runId, nodeName, patch, updateOptions = {}) {
      const fence = updateOptions.attempt;
      const set: Record<string, unknown> = {};
      const remove: string[] = [];
      for (const [field, value] of Object.entries(patch)) {
        if (field === 'name') continue;
        if (value === undefined) remove.push(field);
        else set[field] = value;
      }
      if (fence !== undefined) {
        set.attempt = Math.max(fence, Number(patch.attempt ?? fence));
      }
      const [code, pairs] = (await runScript(redis, updateRunNodeScript, {
        keys: [keys.run(runId)],
        args: [nodeName, fence ?? '', toCleanJson(set), JSON.stringify(remove)],
      })) as [number, unknown];
      if (Number(code) === 0) throw notFound(`run ${runId}`);
      if (Number(code) === -2) {
        throw notFound(`node ${JSON.stringify(nodeName)} of run ${runId}`);
      }
      return toRun(runId, pairs);
    },

    async listRuns(listOptions) {
      const indexes: string[] = [];
      if (listOptions.repository !== undefined) {
        indexes.push(keys.runsOfRepository(listOptions.repository));
      }
      if (listOptions.ref !== undefined) {
        indexes.push(keys.runsOfRef(listOptions.ref));
      }
      if (listOptions.commit !== undefined) {
        indexes.push(keys.runsOfCommit(listOptions.commit));
      }
      if (listOptions.status !== undefined) {
        indexes.push(keys.runsOfStatusPrefix + listOptions.status);
      }
      const ids = await listIds(redis, keys, {
        indexes: indexes.length > 0 ? indexes : [keys.runs],
        offset: listOptions.offset ?? 0,
        limit: listOptions.limit,
      });
      const runs = await Promise.all(ids.map((id) => getRun(id)));
      return runs.filter((run) => run !== null);
    },

    async activeRunsFor(repository, ref, name) {
      const ids = await listIds(redis, keys, {
        indexes: [keys.activeRuns(repository, ref, name)],
        offset: 0,
        limit: 1000,
      });
      const runs = await Promise.all(ids.map((id) => getRun(id)));
      return runs.filter(
        (run): run is RunRecord => run !== null && isActive(run.status),
      );
    },
  };
}

function isActive(status: RunStatus): boolean {
  return ACTIVE_RUN_STATUSES.includes(status);
}

function notFound(what: string): StoreError {
  return new StoreError(
    'NOT_FOUND',
    `${what} does not exist: check the id, or create the run first`,
  );
}

function parseString(json: string | null | undefined): string {
  if (json === null || json === undefined) return '';
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}

/**
 * Nodes are re-encoded by Lua's cjson, which rejects lone UTF-16
 * surrogates; they become U+FFFD here so a node update can't fail on them.
 */
function withCleanNodes<T extends Partial<RunRecord>>(
  record: T,
): Record<string, unknown> {
  if (record.nodes === undefined) return { ...record };
  return { ...record, nodes: JSON.parse(toCleanJson(record.nodes)) };
}

function toCleanJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'string' ? item.replace(LONE_SURROGATE, '\uFFFD') : item,
  );
}
