/**
 * The composition root shared by `kiln run`, `kiln up`, `kiln server` and
 * `kiln worker`: Redis (a private redis-server when REDIS_URL is not set),
 * the stores, the step queues, git, the runtime and the artifact store. The
 * only place that picks concrete adapters.
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createGitCredentials } from '../forge/github/create-git-credentials.js';
import { createGithubClient } from '../forge/github/create-github-client.js';
import { createArtifactStore } from '../artifacts/create-artifact-store.js';
import { createDataLake } from '../artifacts/create-data-lake.js';
import { GitMaterialiser } from '../git/git-materialiser.js';
import {
  createScheduleQueue,
  type ScheduleQueue,
} from '../queue/schedule-queue.js';
import { createStepQueue } from '../queue/step-jobs.js';
import { checkRedis } from '../redis/check-redis.js';
import { checkRedisExposure } from '../redis/check-redis-exposure.js';
import {
  nameStore,
  watchStoreEpoch,
  type StoreEpochWatch,
} from '../redis/watch-store-epoch.js';
import { connectRedis, ensurePrivateRedis } from '../redis/private-redis.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import {
  createStreamFollower,
  type StreamFollower,
} from '../redis/stream-follower.js';
import { DockerRuntime } from '../runtime/docker/docker-runtime.js';
import { LocalRuntime } from '../runtime/local/local-runtime.js';
import { NullRuntime } from '../runtime/null-runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Settings } from '../settings.js';
import { createGitCommitHistory } from '../control/git-commit-history.js';
import { extendBackoff } from '../reporter/github-backoff.js';
import { createReporter, type Reporter } from '../reporter/start-reporter.js';
import { createStores } from '../store/create-stores.js';
import { migrateStore } from '../store/migrate-store.js';
import { createEventTimes, type EventTimes } from '../store/event-times.js';
import {
  createScheduleStore,
  type ScheduleStore,
} from '../store/schedule-store.js';
import {
  createRunEventFeed,
  type RunEventFeed,
} from '../store/run-event-feed.js';
import { createStopWatcher } from '../store/stop-watcher.js';
import { createRedisAttemptBeats } from '../store/attempt-beats.js';
import type { WorkerDeps } from '../worker/worker-deps.js';

export interface Engine {
  settings: Settings;
  logger: Logger;
  /** Commands and locks (fails fast when Redis is down). */
  redis: Redis;
  /** For BullMQ workers and queues (waits for Redis to come back). */
  bullConnection: Redis;
  /** Every key and queue of this kiln (under KILN_REDIS_PREFIX). */
  keys: RedisKeys;
  deps: WorkerDeps;
  eventTimes: EventTimes;
  /** Follows run event streams (pages, `kiln run`, stop requests). */
  follower: StreamFollower;
  /** Runs, status changes and logs as they happen. */
  feed: RunEventFeed;
  /** Said once at start: private Redis started, local runtime chosen… */
  notes: string[];
  /** GitHub reporting: every role enqueues; server roles start its worker. */
  reporter: Reporter;
  /** Whether Redis lost kiln's data since this process started. */
  storeEpoch: StoreEpochWatch;
  /** Schedules' records and their BullMQ job schedulers. */
  schedules: { store: ScheduleStore; queue: ScheduleQueue };
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
  // First: a wrong KILN_ARTIFACTS_URL fails before anything is started.
  const artifacts = await createArtifactStore(settings);

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
    const exposure = await checkRedisExposure({
      url,
      policy: {
        hostNetwork: settings.unsafeStepHostNetwork,
        allow: settings.stepNetworkAllow,
      },
      allowUnprotected: settings.unsafeRedisWithoutPassword,
    });
    notes.push(...exposure.warnings);
  } catch (error) {
    redis.disconnect();
    bullConnection.disconnect();
    await stopPrivate?.();
    throw error;
  }

  const stores = createStores(redis, { prefix: settings.redisPrefix });
  const { keys } = stores;
  // Records of an older kiln: migrated once, or a clear refusal.
  try {
    const migrated = await migrateStore({
      redis,
      bull: bullConnection,
      keys,
      logger,
    });
    if (migrated && migrated.runs > 0) {
      notes.push(
        `migrated ${migrated.runs} run(s) from store schema ${migrated.from}${migrated.cancelled.length > 0 ? `; cancelled ${migrated.cancelled.length} in-flight run(s) whose node order changed (re-run them): ${migrated.cancelled.join(', ')}` : ''}`,
      );
    }
  } catch (error) {
    redis.disconnect();
    bullConnection.disconnect();
    await stopPrivate?.();
    throw error;
  }
  // After the migration: a lost store is told from a new one by its epoch.
  const storeEpoch = await watchStoreEpoch({
    redis,
    keys,
    logger,
    memoryFile: join(settings.dataDir, 'store-epochs.json'),
    storeName: nameStore(url),
  });
  const steps = createStepQueue(bullConnection, keys.bullPrefix, (error) =>
    logger.warn({ err: error }, 'step queue connection problem'),
  );
  const follower = createStreamFollower({
    redis,
    onError: (error) => logger.warn({ err: error }, 'event stream'),
  });
  // One GitHub client for reports and git: private repositories are
  // fetched with the App's installation tokens (or KILN_GITHUB_TOKEN).
  const github = createGithubClient({
    settings,
    logger,
    // The reporter's write budget paces writes (shared by every kiln on the
    // Redis, final states first); no second, per-process spacing.
    minWriteIntervalMs: 0,
    requestTimeoutMs: settings.githubTimeoutMs,
    onRateLimited: (seconds) =>
      void extendBackoff(redis, {
        keys,
        until: Date.now() + seconds * 1000,
        probeIntervalMs: settings.githubProbeIntervalMs,
      }).catch(() => undefined),
  });
  let runtime: Runtime = new LocalRuntime();
  if (options.runsSteps) {
    runtime = await pickRuntime(settings, notes, logger);
  }
  const deps: WorkerDeps = {
    executions: stores.executions,
    runs: stores.runs,
    configs: stores.configs,
    steps,
    stops: createStopWatcher(follower, keys),
    beats: createRedisAttemptBeats(redis, keys),
    logger,
    git: new GitMaterialiser({
      cacheDir: join(settings.dataDir, 'git'),
      fetchStallMs: settings.gitStallMs,
      // Steps of one pipeline share their commit's tree.
      treeLingerMs: 30_000,
      credentials: createGitCredentials({
        github,
        apiUrl: settings.githubApiUrl,
      }),
    }),
    runtime,
    artifacts,
    ...createDataLake(settings),
    workDir: join(settings.dataDir, 'work'),
    stepLimits: {
      outputBytes: settings.stepOutputLimitBytes,
      rootfsBytes: settings.stepRootfsLimitBytes,
      defaultTimeLimitMs: settings.stepTimeLimitMs,
    },
    stepPolicy: {
      images: settings.stepImages,
      devices: settings.stepDevices,
      pinned: settings.stepImagesPinned,
    },
    host: hostname(),
    workerId: settings.workerId,
  };
  await mkdir(deps.workDir, { recursive: true });
  const reporter = createReporter({
    redis,
    bullConnection,
    keys,
    runs: stores.runs,
    configs: stores.configs,
    executions: stores.executions,
    logger,
    settings,
    github,
    probeIntervalMs: settings.githubProbeIntervalMs,
    history: createGitCommitHistory(deps.git),
  });
  notes.push(...reporter.notes);
  const scheduleQueue = createScheduleQueue({
    connection: bullConnection,
    bullPrefix: keys.bullPrefix,
  });

  return {
    settings,
    logger,
    redis,
    bullConnection,
    keys,
    deps,
    eventTimes: createEventTimes(redis, keys),
    follower,
    feed: createRunEventFeed(follower, keys),
    notes,
    reporter,
    storeEpoch,
    schedules: {
      store: createScheduleStore(redis, keys),
      queue: scheduleQueue,
    },
    async close() {
      storeEpoch.close();
      await reporter.close();
      await scheduleQueue.close();
      deps.stops.close();
      await follower.close();
      await steps.close();
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
    // Loaded only here: @kubernetes/client-node alone is ≈ 80 MB of RSS,
    // which every kiln that runs no Pods would carry (L1's memory bound).
    const { createKubernetesRuntime } =
      await import('../runtime/kubernetes/create-kubernetes-runtime.js');
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
    stepNetwork: settings.unsafeStepHostNetwork
      ? { mode: 'unsafe-host' }
      : {
          mode: 'isolated',
          name: settings.stepNetwork,
          allow: settings.stepNetworkAllow,
          dns: settings.stepNetworkDns,
          stateDir: join(settings.dataDir, 'step-network'),
        },
    secretsDelivery: settings.secretsDelivery,
    secretsDir: resolve(
      settings.secretsDir ?? join(settings.dataDir, 'step-secrets'),
    ),
  });
  if (await docker.ping()) {
    // Said at start so the operator learns now, not from a failed step.
    notes.push(...(await docker.checkStepNetwork()).notes);
    return docker;
  }
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
