/**
 * The composition root shared by `kiln run`, `kiln up`, `kiln server` and
 * `kiln worker`: Redis (a private redis-server when REDIS_URL is not set),
 * the stores, the step queues, git, the runtime and the artifact store. The
 * only place that picks concrete adapters.
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { FsArtifactStore } from '../artifacts/fs-artifact-store.js';
import { GitMaterialiser } from '../git/git-materialiser.js';
import { createStepQueues } from '../queue/step-jobs.js';
import { checkRedis } from '../redis/check-redis.js';
import { connectRedis, ensurePrivateRedis } from '../redis/private-redis.js';
import { DockerRuntime } from '../runtime/docker/docker-runtime.js';
import { createKubernetesRuntime } from '../runtime/kubernetes/create-kubernetes-runtime.js';
import { LocalRuntime } from '../runtime/local/local-runtime.js';
import { NullRuntime } from '../runtime/null-runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Settings } from '../settings.js';
import { createGitCommitHistory } from '../reporter/git-commit-history.js';
import { createReporter, type Reporter } from '../reporter/start-reporter.js';
import { createStores } from '../store/create-stores.js';
import type { WorkerDeps } from '../worker/worker-deps.js';

export interface Engine {
  settings: Settings;
  logger: Logger;
  /** Commands and locks (fails fast when Redis is down). */
  redis: Redis;
  /** For BullMQ workers and queues (waits for Redis to come back). */
  bullConnection: Redis;
  deps: WorkerDeps;
  /** Said once at start: private Redis started, local runtime chosen… */
  notes: string[];
  /** GitHub reporting: every role enqueues; server roles start its worker. */
  reporter: Reporter;
  close(): Promise<void>;
}

export interface CreateEngineOptions {
  settings: Settings;
  logger: Logger;
  /** Whether this process runs steps (needs a runtime). */
  runsSteps: boolean;
}

export async function createEngine(
  options: CreateEngineOptions,
): Promise<Engine> {
  const { settings, logger } = options;
  const notes: string[] = [];
  await mkdir(settings.dataDir, { recursive: true });

  let url = settings.redisUrl;
  let stopPrivate: (() => Promise<void>) | undefined;
  if (!url) {
    const local = await ensurePrivateRedis({
      dataDir: settings.dataDir,
      logger,
    });
    url = local.url;
    if (local.started) {
      notes.push(
        `started a private redis-server (data in ${join(settings.dataDir, 'redis')}); set REDIS_URL to use your own`,
      );
      stopPrivate = local.stop;
    }
  }
  const redis = connectRedis(url, { role: 'producer' });
  const bullConnection = connectRedis(url, { role: 'worker' });
  try {
    const { warnings } = await checkRedis(redis);
    notes.push(...warnings);
  } catch (error) {
    redis.disconnect();
    bullConnection.disconnect();
    await stopPrivate?.();
    throw error;
  }

  const prefix = settings.redisPrefix;
  const stores = createStores(redis, { prefix });
  const queues = createStepQueues(bullConnection, undefined, (error) =>
    logger.warn({ err: error }, 'step queue connection problem'),
  );
  let runtime: Runtime = new LocalRuntime();
  if (options.runsSteps) {
    runtime = await pickRuntime(settings, notes, logger);
  }
  const deps: WorkerDeps = {
    redis,
    prefix,
    executions: stores.executions,
    runs: stores.runs,
    queues,
    logger,
    git: new GitMaterialiser({
      cacheDir: join(settings.dataDir, 'git'),
      // Steps of one pipeline share their commit's tree.
      treeLingerMs: 30_000,
    }),
    runtime,
    artifacts: new FsArtifactStore(join(settings.dataDir, 'artifacts')),
    workDir: join(settings.dataDir, 'work'),
    host: hostname(),
    workerId: settings.workerId,
  };
  await mkdir(deps.workDir, { recursive: true });
  const reporter = createReporter({
    redis,
    bullConnection,
    prefix,
    runs: stores.runs,
    executions: stores.executions,
    logger,
    settings,
    history: createGitCommitHistory(deps.git),
  });
  if (reporter.enabled) deps.onRunChange = reporter.onRunChange;
  notes.push(...reporter.notes);

  return {
    settings,
    logger,
    redis,
    bullConnection,
    deps,
    notes,
    reporter,
    async close() {
      await reporter.close();
      await queues.close();
      redis.disconnect();
      bullConnection.disconnect();
      await stopPrivate?.();
    },
  };
}

async function pickRuntime(
  settings: Settings,
  notes: string[],
  logger: Logger,
): Promise<Runtime> {
  if (settings.runtime === 'kubernetes') {
    return createKubernetesRuntime(settings, notes, logger);
  }
  if (settings.runtime === 'null') {
    notes.push(
      'runtime: null (KILN_RUNTIME=null): steps are not run, each succeeds at once; for benchmarks and tests only',
    );
    return new NullRuntime();
  }
  if (settings.runtime === 'local') {
    notes.push(
      'runtime: local processes (KILN_RUNTIME=local): steps run on this host without container isolation',
    );
    return new LocalRuntime();
  }
  const registryAuth = Object.fromEntries(
    Object.entries(settings.registryAuth).map(([host, auth]) => [
      host,
      { ...auth, serveraddress: host },
    ]),
  );
  const docker = new DockerRuntime({
    workerId: settings.workerId,
    registryAuth,
  });
  if (await docker.ping()) return docker;
  if (settings.runtime === 'docker') {
    throw new Error(
      'KILN_RUNTIME=docker but no Docker engine answers: start dockerd (or set DOCKER_HOST), or use KILN_RUNTIME=local',
    );
  }
  notes.push(
    'runtime: no Docker engine answers, so steps run as local processes without container isolation; start dockerd to use containers',
  );
  return new LocalRuntime();
}
