/**
 * Starts kiln's long-running roles and stops them gracefully: on SIGTERM or
 * SIGINT a worker stops taking jobs and waits for its running steps up to a
 * grace period, then hands them back (they become stalled jobs that another
 * worker takes up, after removing the orphan container); the reporter then
 * posts the GitHub reports that are due, within the same grace period
 * (what is left stays queued for the next kiln).
 */
import { createServer, type Server } from 'node:http';
import type { Worker } from 'bullmq';
import { createEngine, type Engine } from '../../engine/create-engine.js';
import { exitOnCrash } from '../../engine/exit-on-crash.js';
import { createCollaboratorCheck } from '../../forge/github/check-collaborator.js';
import { githubGitOrigin } from '../../forge/github/github-git-origin.js';
import { createHookDeliverySources } from '../../forge/github/create-hook-delivery-sources.js';
import { createDeliveryLog } from '../../intake/delivery-log.js';
import { startIntakeWorker } from '../../intake/start-intake-worker.js';
import {
  startRedeliverer,
  type Redeliverer,
} from '../../intake/start-redeliverer.js';
import { createLogger } from '../../log.js';
import { reconcileRun } from '../../control/reconcile-run.js';
import type { ScheduleDeps } from '../../control/schedule-deps.js';
import { createScheduleSync } from '../../control/sync-schedules.js';
import { startScheduleWorker } from '../../scheduler/start-schedule-worker.js';
import { DEFAULT_STEP_QUEUE } from '../../queue/step-jobs.js';
import { createSecretStore } from '../../secrets/secret-store.js';
import { createGitCommitHistory } from '../../control/git-commit-history.js';
import { createApp } from '../../engine/create-app.js';
import { readSettings } from '../../settings.js';
import { claimWorkerId } from '../../worker/claim-worker-id.js';
import { pauseWhileEngineDown } from '../../worker/pause-while-engine-down.js';
import { startStepWorker } from '../../worker/step-worker.js';
import { startWorkerListener } from '../../server/start-worker-listener.js';
import {
  createKilnMetrics,
  type KilnMetrics,
} from '../../telemetry/create-kiln-metrics.js';

export interface ServiceOptions {
  port?: string;
  concurrency?: string;
  dataDir?: string;
}

type Role = 'up' | 'server' | 'worker';

export async function serviceAction(
  role: Role,
  options: ServiceOptions,
): Promise<void> {
  const settings = readSettings(process.env, {
    port: options.port,
    concurrency: options.concurrency,
    dataDir: options.dataDir,
  });
  const logger = createLogger({ level: settings.logLevel });
  exitOnCrash({ logger, role });
  const runsSteps = role !== 'server';
  const engine = await createEngine({ settings, logger, runsSteps });
  for (const note of engine.notes) logger.warn({ role }, note);
  const closers: Array<() => Promise<void>> = [];
  const metrics = createKilnMetrics({
    redis: engine.redis,
    keys: engine.keys,
    runs: engine.deps.runs,
    storeLost: () => engine.storeEpoch.lost() !== null,
  });
  closers.push(() => metrics.close());

  try {
    if (runsSteps) closers.push(await startWorkerRole(engine, metrics));
    if (role !== 'worker')
      closers.push(await startServerRole(engine, runsSteps, metrics));
  } catch (error) {
    // A role that can't start (its worker id held, its port taken): close
    // what is open, so the process ends with the error instead of idling
    // on its connections.
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await engine.reporter.close({ flushUntil: Date.now() }).catch(() => {});
    await engine.close().catch(() => undefined);
    throw error;
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = Date.now() + settings.shutdownGraceMs;
    void (async () => {
      for (const close of closers.reverse())
        await close().catch((error: unknown) =>
          logger.error({ err: error }, 'shutdown'),
        );
      // Last, so the ends of steps that finished during the grace period
      // are reported too; a few seconds even when the steps used it all.
      await engine.reporter
        .close({ flushUntil: Math.max(deadline, Date.now() + 3_000) })
        .catch((error: unknown) => logger.error({ err: error }, 'shutdown'));
      await engine.close();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function startWorkerRole(
  engine: Engine,
  metrics: KilnMetrics,
): Promise<() => Promise<void>> {
  const { deps, settings, logger } = engine;
  // Before the reaper: it removes this id's containers that no started
  // step holds, which would be another live worker's under a shared id.
  const releaseWorkerId = await claimWorkerId(engine.redis, {
    key: engine.keys.workerClaim(settings.workerId),
    workerId: settings.workerId,
    ttlMs: settings.lockDurationMs,
    logger,
  });
  const secrets = createSecretStore(engine.redis, engine.keys);
  deps.secretsFor = (repository) => secrets.values(repository);
  // Containers of steps still marked started belong to live attempts (this
  // worker's before a restart are re-run under the same name, which
  // replaces them); any other kiln container on this engine is an orphan.
  const active = new Set<string>();
  const unfinished = [];
  for (const status of ['queued', 'running', 'created'] as const) {
    unfinished.push(...(await deps.runs.listRuns({ status, limit: 1000 })));
  }
  for (const run of unfinished) {
    for (const node of run.nodes) {
      if (node.status === 'started' && node.executionId)
        active.add(node.executionId);
    }
  }
  // One worker process per data dir: trees it doesn't hold are leftovers.
  await deps.git.reap();
  const removed = await deps.runtime.reapOrphans(active);
  if (removed > 0)
    logger.warn({ removed }, 'removed containers left by a stopped worker');
  for (const run of unfinished) {
    if (run.queue && run.queue !== DEFAULT_STEP_QUEUE) continue;
    await reconcileRun(deps, run).catch((error: unknown) =>
      logger.warn({ err: error, runId: run.id }, 'could not reconcile run'),
    );
  }
  const worker: Worker = startStepWorker(deps, {
    queue: DEFAULT_STEP_QUEUE,
    concurrency: settings.concurrency,
    connection: engine.bullConnection,
    prefix: engine.keys.bullPrefix,
    lockDurationMs: settings.lockDurationMs,
    stalledIntervalMs: settings.stalledIntervalMs,
  });
  logger.info(
    {
      concurrency: settings.concurrency,
      runtime: deps.runtime.kind,
      workerId: settings.workerId,
    },
    'worker started',
  );
  worker.on('completed', (job) =>
    metrics.observeStepJob('completed', jobSeconds(job)),
  );
  const engineWatch = pauseWhileEngineDown({
    worker,
    ping: () => deps.runtime.ping(),
    logger,
  });
  worker.on('failed', (job) => {
    metrics.observeStepJob('failed', job ? jobSeconds(job) : undefined);
    // A job that failed may have met a dead engine: look now, not in 5 s.
    engineWatch.check().catch(() => undefined);
  });
  const listener =
    settings.workerPort === undefined
      ? undefined
      : await startWorkerListener({
          deps: {
            settings,
            logger,
            redis: engine.redis,
            keys: engine.keys,
            control: deps,
            metrics,
            readinessChecks: [
              { name: 'runtime', check: () => deps.runtime.ping() },
              storeCheck(engine),
            ],
          },
          port: settings.workerPort,
          host: settings.host,
        });
  if (listener)
    logger.info({ port: listener.port }, 'worker health and metrics listening');
  return async () => {
    engineWatch.stop();
    await listener?.close();
    const graceful = worker.close();
    const timer = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), settings.shutdownGraceMs).unref(),
    );
    if ((await Promise.race([graceful, timer])) === 'timeout') {
      logger.warn(
        'steps still running after the grace period: handing them back to the queue',
      );
      // Not `close(true)`: BullMQ returns the pending graceful close, which
      // waits for the steps. Exiting lets their locks lapse instead, so they
      // become stalled jobs that another worker takes up. The id's claim
      // lapses with them.
    } else {
      // No step of this id runs any more: a restart may take it at once.
      await releaseWorkerId().catch(() => undefined);
    }
  };
}

async function startServerRole(
  engine: Engine,
  withWorker: boolean,
  metrics: KilnMetrics,
): Promise<() => Promise<void>> {
  const { deps, settings, logger } = engine;
  const app = createApp({
    settings,
    logger,
    redis: engine.redis,
    keys: engine.keys,
    control: deps,
    feed: engine.feed,
    git: deps.git,
    history: createGitCommitHistory(deps.git),
    artifacts: deps.artifacts,
    metrics,
    isCollaborator: createCollaboratorCheck(engine.reporter.github),
    readinessChecks: withWorker
      ? [
          { name: 'runtime', check: () => deps.runtime.ping() },
          storeCheck(engine),
        ]
      : [storeCheck(engine)],
  });
  const scheduleDeps: ScheduleDeps = {
    control: deps,
    schedules: engine.schedules.store,
    queue: engine.schedules.queue,
    git: deps.git,
  };
  // The intake worker turns queued deliveries into runs (and takes each
  // branch's schedules from pushes to it).
  const intake = startIntakeWorker({
    schedules: createScheduleSync(scheduleDeps),
    control: deps,
    eventTimes: engine.eventTimes,
    git: deps.git,
    deliveries: createDeliveryLog(engine.redis, { keys: engine.keys }),
    bullPrefix: engine.keys.bullPrefix,
    allowLocalRepositories: settings.allowLocalRepositories,
    githubOrigin: githubGitOrigin(settings.githubApiUrl),
    connection: engine.bullConnection,
    logger,
    // Intake waits on git servers, not on the CPU: more slots than steps,
    // so a few silent servers (each cut after KILN_GIT_STALL_MS) don't
    // hold up the other repositories' deliveries.
    concurrency: Math.max(8, settings.concurrency),
  });
  // Every server takes tick jobs; BullMQ gives each tick to one of them.
  const ticks = startScheduleWorker({
    ...scheduleDeps,
    connection: engine.bullConnection,
    bullPrefix: engine.keys.bullPrefix,
    logger,
  });
  engine.reporter.startReportWorker();
  const server: Server = createServer(app);
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const address = server.address();
  const port =
    typeof address === 'object' && address ? address.port : settings.port;
  const base = settings.publicUrl ?? `http://localhost:${port}`;
  process.stdout.write(
    `kiln is listening on port ${port}\n  webhook URL: ${base}/webhooks/github\n  UI:          ${base}/\n`,
  );
  if (!settings.webhookSecret) {
    logger.warn(
      'KILN_WEBHOOK_SECRET is not set: webhook deliveries will be refused until it is',
    );
  }
  // Listening first: the deliveries it asks GitHub for come here.
  const redeliverer = startRedelivery(engine, metrics);
  return async () => {
    await redeliverer?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await intake.close();
    await ticks.close();
  };
}

/**
 * GitHub never redelivers a failed delivery by itself: with a GitHub
 * client and KILN_REDELIVER_INTERVAL_MS > 0, this server asks for them
 * (start-redeliverer.ts). `undefined` when there is nothing to ask.
 */
function startRedelivery(
  engine: Engine,
  metrics: KilnMetrics,
): Redeliverer | undefined {
  const { settings, logger } = engine;
  const github = engine.reporter.github;
  if (settings.redeliverIntervalMs === 0 || !github) return undefined;
  const sources = createHookDeliverySources({
    github,
    repoHooks: settings.githubRepoHooks,
  });
  if (sources.length === 0) {
    logger.info(
      'failed webhook deliveries are not redelivered: with KILN_GITHUB_TOKEN, name the repository webhooks in KILN_GITHUB_REPO_HOOKS (docs/github-app.md)',
    );
    return undefined;
  }
  return startRedeliverer({
    redis: engine.redis,
    keys: engine.keys,
    sources,
    logger,
    onAsked: (source) => metrics.countRedeliveryRequested(source),
    intervalMs: settings.redeliverIntervalMs,
    lookbackMs: settings.redeliverLookbackMs,
    maxRedeliveries: settings.redeliverMax,
  });
}

/** `/readyz` fails once Redis lost kiln's data (watch-store-epoch.ts). */
function storeCheck(engine: Engine) {
  return {
    name: 'store',
    check: async () => engine.storeEpoch.lost() === null,
  };
}

/** From taking the job to finishing it (BullMQ's own timestamps). */
function jobSeconds(job: {
  processedOn?: number;
  finishedOn?: number;
}): number | undefined {
  if (job.processedOn === undefined || job.finishedOn === undefined)
    return undefined;
  return (job.finishedOn - job.processedOn) / 1000;
}
