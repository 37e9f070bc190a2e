/**
 * Reporting to GitHub as its own BullMQ queue (`kiln-reports`): the
 * reporter follows the global run event stream as a consumer group, and
 * each run status change becomes a debounced job that reads the run's
 * latest state, so a burst of changes is one report. A restarted reporter
 * resumes after the last event it acknowledged (nothing missed, nothing
 * acted on twice); several servers share the group. GitHub being down,
 * slow or rate limited never fails or delays a run: jobs wait and retry
 * for hours, and the latest state is posted when GitHub is back.
 *
 * Contract: `createReporter` is called once per process (the engine does
 * it). `startReportWorker` is called by the server roles (`kiln server`,
 * `kiln up`): it starts following the events and the report worker; it is
 * a no-op when GitHub is not configured. `close` stops both; call it once.
 */
import {
  DelayedError,
  Queue,
  UnrecoverableError,
  Worker,
  type ConnectionOptions,
  type Job,
} from 'bullmq';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  createGithubClient,
  type GithubClient,
} from '../forge/github/create-github-client.js';
import { QUEUES, type RedisKeys } from '../redis/redis-keys.js';
import type { Settings } from '../settings.js';
import type { ConfigStore, ExecutionStore, RunStore } from '../store/index.js';
import { parseRunEvent } from '../store/parse-run-event.js';
import type { CommitHistory } from '../control/find-base-run.js';
import { extendBackoff, GithubBackoffError } from './github-backoff.js';
import { reportRun } from './report-run.js';

export const REPORT_QUEUE = QUEUES.reports;
const GROUP = 'reporter';

export interface ReporterDeps {
  redis: Redis;
  /** For BullMQ (waits for Redis to come back). */
  bullConnection: ConnectionOptions;
  keys: RedisKeys;
  runs: RunStore;
  configs: ConfigStore;
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
  /** Queues a report of the run (debounced); cheap, never throws. */
  queueReport(runId: string): void;
  startReportWorker(options?: { concurrency?: number }): void;
  close(): Promise<void>;
}

// About 33 hours of retries at the 10-minute cap.
const ATTEMPTS = 200;
const MAX_RETRY_MS = 10 * 60_000;
const RUN_LOCK_MS = 120_000;
/** KEYS[1] lock, ARGV[1] holder: deletes the lock only if still held by it. */
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

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
              keys: deps.keys,
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
  let following: Promise<void> | undefined;
  let stopping = false;
  let reader: Redis | undefined;
  const warned = new Set<string>();

  function queueOf(): Queue {
    queue ??= new Queue(deps.queueName ?? REPORT_QUEUE, {
      connection: deps.bullConnection,
      prefix: deps.keys.bullPrefix,
    });
    return queue;
  }

  function queueReport(runId: string): Promise<unknown> {
    return queueOf().add(
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
    );
  }

  /**
   * The consumer group loop: each status change queues a report, then is
   * acknowledged. Entries a dead consumer read but never acknowledged are
   * claimed after a minute, so none is lost with a crashed server.
   */
  async function follow(connection: Redis): Promise<void> {
    const consumer = `${hostname()}-${process.pid}`;
    await connection
      .xgroup('CREATE', deps.keys.events, GROUP, '0', 'MKSTREAM')
      .catch((error: unknown) => {
        if (!/BUSYGROUP/.test(String(error))) throw error;
      });
    let claimFrom = '0-0';
    while (!stopping) {
      try {
        const [next, claimed] = (await connection.xautoclaim(
          deps.keys.events,
          GROUP,
          consumer,
          60_000,
          claimFrom,
          'COUNT',
          100,
        )) as [string, Array<[string, string[]]>];
        claimFrom = next;
        const reply = (await connection.xreadgroup(
          'GROUP',
          GROUP,
          consumer,
          'COUNT',
          200,
          'BLOCK',
          2000,
          'STREAMS',
          deps.keys.events,
          '>',
        )) as Array<[string, Array<[string, string[]]>]> | null;
        const entries = [...claimed, ...(reply?.[0]?.[1] ?? [])];
        for (const [id, fields] of entries) {
          const event = fields ? parseRunEvent(fields) : null;
          if (event) await queueReport(event.runId);
          await connection.xack(deps.keys.events, GROUP, id);
        }
      } catch (error) {
        if (stopping) return;
        logger.warn({ err: error }, 'reporter could not read run events');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  async function processJob(job: Job<{ runId: string }>, token?: string) {
    if (!github) return;
    const runId = String(job.data.runId);
    const lockKey = deps.keys.githubLock(runId);
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
          keys: deps.keys,
          configs: deps.configs,
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
      // Only this job's lock: one that expired and was taken by another
      // reporter stays theirs.
      await deps.redis
        .eval(RELEASE_LOCK, 1, lockKey, token ?? '1')
        .catch(() => undefined);
    }
  }

  return {
    enabled: github !== null,
    github,
    notes,
    queueReport(runId) {
      if (!github) return;
      queueReport(runId).catch((error: unknown) =>
        logger.warn({ err: error, runId }, 'could not queue a GitHub report'),
      );
    },
    startReportWorker(options = {}) {
      if (!github || worker) return;
      reader = deps.redis.duplicate({
        maxRetriesPerRequest: null,
        enableOfflineQueue: true,
        commandTimeout: 15_000,
      });
      reader.on('error', () => undefined);
      following = follow(reader);
      worker = new Worker(deps.queueName ?? REPORT_QUEUE, processJob, {
        connection: deps.bullConnection,
        prefix: deps.keys.bullPrefix,
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
      stopping = true;
      reader?.disconnect();
      await following;
      await worker?.close();
      await queue?.close();
    },
  };
}
