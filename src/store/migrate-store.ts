/**
 * Brings a Redis written by an older kiln to the current schema, once, at
 * start (every role calls it; the first does the work under a lock, the
 * others wait for it). Schema 1 → 2:
 * - a run's nodes move from one JSON array to a field per node, with the
 *   counters the transitions keep (`left`, `failed`, `stopped`, `w:*`);
 * - executions of a repository are found by counter in their index;
 * - BullMQ's queues move under KILN_REDIS_PREFIX: waiting deliveries and
 *   reports are carried over, step jobs are made again from the node
 *   states (the caller repairs runs after this).
 * A run still in flight whose node order changed (one graph order for plan
 * and run, where v1 had two) can't keep its execution ids: it is cancelled
 * with a reason saying to re-run it.
 *
 * Refuses (`StoreError` OLDER_KILN_RUNNING) while an older kiln still has
 * jobs in progress, with what to do; never half migrates a record.
 */
import type { Redis } from 'ioredis';
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load-config.js';
import type { RunNodeState } from '../model/run.js';
import { isTerminalNode } from '../orchestrator/node-machine.js';
import { buildRunGraph } from '../orchestrator/run-graph.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';
import { QUEUES, type RedisKeys } from '../redis/redis-keys.js';
import { withRedisLock } from '../redis/with-redis-lock.js';
import { encodeNode } from './encode-node.js';
import { parseRunRecord } from './parse-run-record.js';
import { StoreError } from './store-error.js';

export const STORE_SCHEMA = 2;
const OLD_BULL_PREFIX = 'bull';

export interface MigrateStoreOptions {
  redis: Redis;
  /** A BullMQ connection (to move queued jobs). */
  bull: ConnectionOptions;
  keys: RedisKeys;
  logger: Logger;
  /** How long a second process waits for the first one's migration. @defaultValue 120000 */
  waitMs?: number;
}

export interface MigrationReport {
  from: number;
  runs: number;
  cancelled: string[];
  movedJobs: number;
}

export async function migrateStore(
  options: MigrateStoreOptions,
): Promise<MigrationReport | null> {
  const { redis, keys, logger } = options;
  const current = Number(await redis.get(keys.schema));
  if (current === STORE_SCHEMA) return null;
  if (current > STORE_SCHEMA) {
    throw new StoreError(
      'SCHEMA_TOO_NEW',
      `this Redis was written by a newer kiln (store schema ${current}, this kiln knows ${STORE_SCHEMA}): upgrade this kiln`,
    );
  }
  // One process migrates (renewed while it works, lapsing if it dies);
  // the others wait for the schema it writes.
  const migrated = await withRedisLock(
    redis,
    { key: keys.schemaMigration, ttlMs: 30_000 },
    async () => {
      const report: MigrationReport = {
        from: 1,
        runs: 0,
        cancelled: [],
        movedJobs: 0,
      };
      report.movedJobs = await moveQueues(options);
      await migrateRuns(options, report);
      await migrateExecutionIndexes(redis, keys);
      await redis.set(keys.schema, String(STORE_SCHEMA));
      if (report.runs > 0 || report.movedJobs > 0) {
        logger.warn(
          {
            runs: report.runs,
            cancelled: report.cancelled,
            movedJobs: report.movedJobs,
          },
          `store migrated from schema 1 to ${STORE_SCHEMA}`,
        );
      }
      return report;
    },
  );
  if (migrated.locked) return migrated.value;
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  while (Number(await redis.get(keys.schema)) !== STORE_SCHEMA) {
    if (Date.now() > deadline) {
      throw new StoreError(
        'MIGRATION_PENDING',
        `another kiln process is migrating this Redis to store schema ${STORE_SCHEMA} and has not finished: wait for it (its lock ${keys.schemaMigration} lapses 30 s after that process stops)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}

/** Schema-1 queues lived under BullMQ's default prefix `bull`. */
async function moveQueues(options: MigrateStoreOptions): Promise<number> {
  const { redis, keys } = options;
  let moved = 0;
  for (const name of [QUEUES.intake, QUEUES.reports, QUEUES.steps]) {
    if (
      (await redis.exists(
        `${OLD_BULL_PREFIX}:${name}:meta`,
        `${OLD_BULL_PREFIX}:${name}:id`,
      )) === 0
    )
      continue;
    const old = new Queue(name, {
      connection: options.bull,
      prefix: OLD_BULL_PREFIX,
    });
    try {
      const active = await old.getActiveCount();
      if (active > 0) {
        throw new StoreError(
          'OLDER_KILN_RUNNING',
          `an older kiln is still working on ${active} job(s) of its queue "${name}": stop every older kiln process (server and workers), then start this one`,
        );
      }
      if (name !== QUEUES.steps) {
        const target = new Queue(name, {
          connection: options.bull,
          prefix: keys.bullPrefix,
        });
        try {
          const jobs = await old.getJobs([
            'wait',
            'delayed',
            'prioritized',
            'waiting-children',
          ]);
          for (const job of jobs) {
            await target.add(job.name, job.data, {
              ...(job.id ? { jobId: job.id } : {}),
              attempts: job.opts.attempts,
              ...(job.opts.backoff !== undefined
                ? { backoff: job.opts.backoff }
                : {}),
              removeOnComplete: job.opts.removeOnComplete,
              removeOnFail: job.opts.removeOnFail,
            });
            moved += 1;
          }
        } finally {
          await target.close();
        }
      }
      // Step jobs are made again from the node states by the run repair.
      await old.obliterate({ force: true });
    } finally {
      await old.close();
    }
  }
  return moved;
}

async function migrateRuns(
  options: MigrateStoreOptions,
  report: MigrationReport,
): Promise<void> {
  const { redis, keys } = options;
  const ids = await redis.zrange(keys.runs, 0, -1);
  for (const id of ids) {
    const hash = await redis.hgetall(keys.run(id));
    if (!hash.nodes) continue;
    const run = parseRunRecord(id, hash);
    const graph = await graphOf(
      redis,
      keys,
      run.config?.key,
      run.config?.file,
      run.name,
    );
    const order = new Map(
      graph?.nodes.map((node) => [node.name, node.index]) ?? [],
    );
    const reordered = run.nodes.some(
      (node) => order.has(node.name) && order.get(node.name) !== node.index,
    );
    const interrupted: string[] = [];
    const nodes: RunNodeState[] = run.nodes.map((node) => {
      const { name, step, index, attempt, executionId, startedAt, endedAt } =
        node;
      let { status, message } = node;
      if (status === 'started') {
        // Its worker is gone (no older kiln has jobs in progress): the
        // attempt ended with the upgrade; the node runs again.
        status = 'queued';
        message =
          'the attempt was interrupted by an upgrade of kiln — queued again';
        if (executionId) interrupted.push(executionId);
      }
      return {
        name,
        step,
        index,
        status,
        // Schema 1 counted attempts from 1 at creation, claimed or not.
        attempt: status === 'pending' || status === 'skipped' ? 0 : attempt,
        generation: status === 'pending' || status === 'skipped' ? 0 : attempt,
        ...(executionId ? { executionId } : {}),
        ...(startedAt ? { startedAt } : {}),
        ...(endedAt ? { endedAt } : {}),
        ...(message ? { message } : {}),
      };
    });
    const fields: Array<string | number> = [];
    for (const node of nodes) fields.push(`n:${node.name}`, encodeNode(node));
    const state = new Map(nodes.map((node) => [node.name, node]));
    for (const node of graph?.nodes ?? []) {
      if (
        node.upstream.length < 2 ||
        state.get(node.name)?.status !== 'pending'
      )
        continue;
      const waiting = node.upstream.filter((name) => {
        const upstream = state.get(name);
        return !(
          upstream?.status === 'complete' ||
          upstream?.status === 'reused' ||
          (upstream?.status === 'error' &&
            graph?.byName.get(name)?.onError === 'continue')
        );
      }).length;
      fields.push(`w:${node.name}`, waiting);
    }
    const left = nodes.filter((node) => !isTerminalNode(node.status)).length;
    const failed = nodes.filter(
      (node) =>
        node.status === 'error' &&
        graph?.byName.get(node.name)?.onError !== 'continue',
    ).length;
    const stopped = nodes.filter((node) => node.status === 'stopped').length;
    const transaction = redis
      .multi()
      .hset(
        keys.run(id),
        ...fields,
        'left',
        left,
        'failed',
        failed,
        'stopped',
        stopped,
        'schema',
        STORE_SCHEMA,
      )
      .hdel(keys.run(id), 'nodes');
    if (!isFinalRunStatus(run.status) && reordered) {
      // Its next executions would take ids of other nodes' executions.
      const reason =
        'cancelled — kiln was upgraded while this run was in flight and its node order changed: re-run it';
      transaction
        .hset(
          keys.run(id),
          'status',
          JSON.stringify('cancelled'),
          'reason',
          JSON.stringify(reason),
          'endedAt',
          JSON.stringify(new Date().toISOString()),
        )
        .zrem(keys.runsOfStatusPrefix + run.status, id)
        .zadd(
          keys.runsOfStatusPrefix + 'cancelled',
          (await redis.zscore(keys.runs, id)) ?? '0',
          id,
        )
        .zrem(keys.activeRuns(run.repository, run.ref ?? '', run.name), id);
      report.cancelled.push(id);
    }
    for (const execution of interrupted) {
      transaction.hset(
        keys.execution(execution),
        'status',
        JSON.stringify('error'),
        'endReason',
        JSON.stringify({
          kind: 'infra-error',
          message: 'interrupted by an upgrade of kiln',
        }),
        'endedAt',
        JSON.stringify(new Date().toISOString()),
      );
    }
    await transaction.exec();
    report.runs += 1;
  }
}

async function graphOf(
  redis: Redis,
  keys: RedisKeys,
  key: string | undefined,
  file: string | undefined,
  name: string,
) {
  if (!key || !file) return undefined;
  const text = await redis.get(keys.config(key));
  if (text === null) return undefined;
  const built = buildRunGraph(loadConfig(text, { file }).config, name);
  return built.ok ? built.graph : undefined;
}

/** Schema 1 found executions by counter in a hash; schema 2 scores the repository's index by counter. */
async function migrateExecutionIndexes(
  redis: Redis,
  keys: RedisKeys,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, pairs] = await redis.hscan(
      keys.executionsByCounter,
      cursor,
      'COUNT',
      500,
    );
    cursor = next;
    const transaction = redis.multi();
    for (let index = 0; index + 1 < pairs.length; index += 2) {
      try {
        const [repository, counter] = JSON.parse(pairs[index] as string) as [
          string,
          number,
        ];
        transaction.zadd(
          keys.executionsOfRepository(repository),
          counter,
          pairs[index + 1] as string,
        );
      } catch {
        // A damaged field names no execution: nothing to index.
      }
    }
    await transaction.exec();
  } while (cursor !== '0');
  await redis.del(keys.executionsByCounter);
}
