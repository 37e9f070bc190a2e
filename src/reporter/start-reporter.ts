/**
 * Reporting to GitHub as its own BullMQ queue (`kiln-reports`): one job per
 * run, debounced, so a burst of run changes becomes one job that reads the
 * latest state. GitHub being down, slow or rate limited never fails or
 * delays a run: jobs wait and retry for hours, and the latest state is
 * posted when GitHub is back.
 *
 * Contract: `createReporter` is called once per process (the engine does
 * it). `onRunChange` only enqueues: it is cheap and never throws, and is a
 * no-op when GitHub is not configured. `startReportWorker` is called by the
 * server roles (`kiln server`, `kiln up`); a `kiln worker` only enqueues.
 * `close` stops the worker (if started) and the queue; call it once.
 */
import {
  DelayedError,
  Queue,
  UnrecoverableError,
  Worker,
  type ConnectionOptions,
  type Job,
} from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  createGithubClient,
  type GithubClient,
} from '../forge/github/create-github-client.js';
import type { Settings } from '../settings.js';
import type { ExecutionStore, RunStore } from '../store/index.js';
import type { CommitHistory } from './find-base-run.js';
import { extendBackoff, GithubBackoffError } from './github-backoff.js';
import { reportRun } from './report-run.js';

export const REPORT_QUEUE = 'kiln-reports';

export interface ReporterDeps {
  redis: Redis;
  /** For BullMQ (waits for Redis to come back). */
  bullConnection: ConnectionOptions;
  prefix: string;
  runs: RunStore;
  executions: ExecutionStore;
  logger: Logger;
  settings: Pick<
    Settings,
    | 'publicUrl'
    | 'githubApiUrl'
    | 'githubToken'
    | 'githubAppId'
    | 'githubPrivateKey'
  >;
  /** Overrides the client built from `settings` (tests). */
  github?: GithubClient | null;
  history?: CommitHistory;
  /** Changes within this window become one job. @defaultValue 1000 */
  debounceMs?: number;
  /** First retry delay, doubling up to 10 minutes. @defaultValue 2000 */
  retryBaseMs?: number;
  /** @defaultValue 1000 (GitHub asks for ≥ 1 s between writes) */
  minWriteIntervalMs?: number;
  /** @defaultValue `kiln-reports` */
  queueName?: string;
}

export interface Reporter {
  /** Whether anything will be posted (GitHub is configured). */
  enabled: boolean;
  /** The GitHub client, or null when GitHub is not configured. */
  github: GithubClient | null;
  /** Said once at start (e.g. that nothing will be posted). */
  notes: string[];
  onRunChange(runId: string): void;
  startReportWorker(options?: { concurrency?: number }): void;
  close(): Promise<void>;
}

// About 33 hours of retries at the 10-minute cap.
const ATTEMPTS = 200;
const MAX_RETRY_MS = 10 * 60_000;
const RUN_LOCK_MS = 120_000;

export function createReporter(deps: ReporterDeps): Reporter {
  const { logger } = deps;
  const github =
    deps.github !== undefined
      ? deps.github
      : createGithubClient({
          settings: deps.settings,
          logger,
          minWriteIntervalMs: deps.minWriteIntervalMs,
          onRateLimited: (seconds) => {
            void extendBackoff(deps.redis, {
              prefix: deps.prefix,
              until: Date.now() + seconds * 1000,
            }).catch(() => undefined);
          },
        });
  const notes: string[] = [];
  if (!github) {
    notes.push(
      'GitHub is not configured (KILN_GITHUB_APP_ID + KILN_GITHUB_PRIVATE_KEY, or KILN_GITHUB_TOKEN): runs are recorded but nothing is posted to GitHub',
    );
  }
  const debounceMs = deps.debounceMs ?? 1000;
  const retryBaseMs = deps.retryBaseMs ?? 2000;
  let queue: Queue | undefined;
  let worker: Worker | undefined;
  const warned = new Set<string>();

  function queueOf(): Queue {
    queue ??= new Queue(deps.queueName ?? REPORT_QUEUE, {
      connection: deps.bullConnection,
    });
    return queue;
  }

  async function processJob(job: Job<{ runId: string }>, token?: string) {
    if (!github) return;
    const runId = String(job.data.runId);
    const lockKey = `${deps.prefix}:github:lock:${runId}`;
    const locked = await deps.redis.set(
      lockKey,
      token ?? '1',
      'PX',
      RUN_LOCK_MS,
      'NX',
    );
    if (locked !== 'OK') {
      // Another reporter is on this run: look again once it is done.
      await job.moveToDelayed(Date.now() + debounceMs, token);
      throw new DelayedError();
    }
    // Changes from now on schedule a new job instead of folding into this
    // one, which may already have read the run.
    await job.removeDeduplicationKey().catch(() => false);
    try {
      await reportRun(
        {
          redis: deps.redis,
          prefix: deps.prefix,
          runs: deps.runs,
          executions: deps.executions,
          publicUrl: deps.settings.publicUrl,
          history: deps.history,
          github,
          logger,
        },
        runId,
      );
    } catch (error) {
      if (error instanceof GithubBackoffError) {
        await job.moveToDelayed(error.until + Math.random() * 1000, token);
        throw new DelayedError();
      }
      if ((error as { status?: number }).status === 422) {
        const message = (error as Error).message;
        if (!warned.has(message)) {
          warned.add(message);
          logger.warn(
            { err: error, runId },
            'GitHub refused a report (422): not retried',
          );
        }
        throw new UnrecoverableError(message);
      }
      logger.debug({ err: error, runId }, 'report failed; retrying later');
      throw error;
    } finally {
      await deps.redis.del(lockKey).catch(() => undefined);
    }
  }

  return {
    enabled: github !== null,
    github,
    notes,
    onRunChange(runId) {
      if (!github) return;
      try {
        queueOf()
          .add(
            'report',
            { runId },
            {
              delay: debounceMs,
              deduplication: {
                id: runId,
                ttl: debounceMs,
                extend: true,
                replace: true,
              },
              attempts: ATTEMPTS,
              backoff: { type: 'report' },
              removeOnComplete: true,
              removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
            },
          )
          .catch((error: unknown) =>
            logger.warn(
              { err: error, runId },
              'could not queue a GitHub report',
            ),
          );
      } catch (error) {
        logger.warn({ err: error, runId }, 'could not queue a GitHub report');
      }
    },
    startReportWorker(options = {}) {
      if (!github || worker) return;
      worker = new Worker(deps.queueName ?? REPORT_QUEUE, processJob, {
        connection: deps.bullConnection,
        concurrency: options.concurrency ?? 4,
        settings: {
          backoffStrategy: (attemptsMade: number) =>
            Math.min(
              retryBaseMs * 2 ** Math.max(0, attemptsMade - 1),
              MAX_RETRY_MS,
            ),
        },
      });
      worker.on('error', (error) =>
        logger.warn({ err: error }, 'GitHub report worker'),
      );
    },
    async close() {
      await worker?.close();
      await queue?.close();
    },
  };
}
