/**
 * kiln's whole dispatch path in this process, with the null runtime: a
 * private redis-server, the engine from `createEngine` (stores, queues,
 * git), a step worker, and a git repository holding the pipeline. Used by
 * the dispatch benchmarks (M2, M3); `runToEnd` creates a run and resolves
 * when it ended.
 */
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Worker } from 'bullmq';
import { createEngine, type Engine } from '../src/engine/create-engine.js';
import type { RunRecord } from '../src/model/run.js';
import { createRun } from '../src/control/create-run.js';
import { isFinalRunStatus } from '../src/orchestrator/run-machine.js';
import { DEFAULT_STEP_QUEUE } from '../src/queue/step-jobs.js';
import { readSettings } from '../src/settings.js';
import { startStepWorker } from '../src/worker/step-worker.js';
import { commitAll, createRepo, writeFiles } from '../test/helpers/git-repo.js';
import {
  startTestRedis,
  type TestRedis,
} from '../test/helpers/redis-server.js';

export interface NullEngine {
  engine: Engine;
  redis: TestRedis;
  /** A plain connection for the baselines and for INFO. */
  raw: Redis;
  /** Commits the config, creates a run of `name`, waits for its end. */
  runToEnd(configText: string, name: string): Promise<RunRecord>;
  /** `performance.now()` when the last run's end was seen. */
  lastEndedAt: number;
  close(): Promise<void>;
}

export async function startNullEngine(options: {
  concurrency: number;
  dataDir: string;
}): Promise<NullEngine> {
  const redis = await startTestRedis();
  const settings = readSettings(
    {},
    {
      redisUrl: redis.url,
      dataDir: options.dataDir,
      runtime: 'null',
      concurrency: String(options.concurrency),
      workerId: 'bench',
    },
  );
  const engine = await createEngine({
    settings,
    logger: pino({ level: 'silent' }),
    runsSteps: true,
  });
  const worker: Worker = startStepWorker(engine.deps, {
    queue: DEFAULT_STEP_QUEUE,
    concurrency: options.concurrency,
    connection: engine.bullConnection,
    prefix: engine.keys.bullPrefix,
  });
  await worker.waitUntilReady();
  const repoDir = createRepo({ 'README.md': 'bench\n' });
  const raw = new Redis(redis.url, { maxRetriesPerRequest: null });
  const committed = new Map<string, string>();

  async function runToEnd(
    configText: string,
    name: string,
  ): Promise<RunRecord> {
    let commit = committed.get(configText);
    if (!commit) {
      writeFiles(repoDir, { 'kiln.yaml': configText });
      commit = commitAll(repoDir, `config ${committed.size}`);
      committed.set(configText, commit);
    }
    const run = await createRun(engine.deps, {
      repository: 'bench/dispatch',
      source: { id: 'bench/dispatch', url: repoDir },
      commit,
      name,
      configText,
      configFile: 'kiln.yaml',
    });
    // The run's end arrives on the global stream (status changes only, so
    // waiting costs no Redis work per step).
    await new Promise<void>((resolve) => {
      const stop = engine.feed.followAll('0', (events) => {
        const ended = events.some(
          ({ event }) =>
            event.kind === 'run' &&
            event.runId === run.id &&
            isFinalRunStatus(event.status),
        );
        if (ended) {
          handle.lastEndedAt = performance.now();
          stop();
          resolve();
        }
      });
    });
    const state = await engine.deps.runs.getRun(run.id);
    if (state?.status !== 'complete') {
      throw new Error(`run ended ${state?.status}: ${state?.reason}`);
    }
    return state;
  }

  const handle: NullEngine = {
    engine,
    redis,
    raw,
    runToEnd,
    lastEndedAt: 0,
    async close() {
      await worker.close();
      await engine.close();
      raw.disconnect();
      await redis.close();
      rmSync(repoDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** Total Redis commands served so far (`INFO commandstats`). */
export async function countRedisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/calls=(\d+)/g)) total += Number(match[1]);
  return total;
}
