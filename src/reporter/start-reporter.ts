/**
 * Reporting to GitHub as its own BullMQ queue (`kiln-reports`) on the
 * shared Redis: the reporter follows the global run event stream as a
 * consumer group, and each run status change becomes a job that reads the
 * run's latest state — a debounced, low-priority job while the run is
 * going, an immediate, high-priority one when it ends — so a burst of
 * changes is one report and a final state never waits behind pending
 * ones. Writes go through a write budget shared by every kiln on the Redis
 * (write-budget.ts): GitHub's limits are kept, part of them is reserved
 * for final states, and a write that has to wait makes its job step aside
 * and read the run again later, so only the state of that time is posted.
 *
 * Reports are durable: the jobs and the unacknowledged events are in
 * Redis. A restarted reporter resumes after the last event it
 * acknowledged; jobs a killed kiln held come back to the queue within
 * seconds; several servers share the group and the queue. On shutdown the
 * reporter first posts what is due, within the grace period. GitHub being
 * down, slow or rate limited never fails or delays a run: jobs wait and
 * retry for hours, and the latest state is posted when GitHub is back.
 *
 * Contract: `createReporter` is called once per process (the engine does
 * it). `startReportWorker` is called by the server roles (`kiln server`,
 * `kiln up`): it starts following the events and the report worker; it is
 * a no-op when GitHub is not configured. `close` stops both (idempotent).
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
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  createGithubClient,
  type GithubClient,
} from '../forge/github/create-github-client.js';
import { TERMINAL_RUN_STATUSES } from '../orchestrator/run-machine.js';
import { QUEUES, type RedisKeys } from '../redis/redis-keys.js';
import type { Settings } from '../settings.js';
import type { ConfigStore, ExecutionStore, RunStore } from '../store/index.js';
import { parseRunEvent } from '../store/parse-run-event.js';
import type { CommitHistory } from '../control/find-base-run.js';
import { extendBackoff, GithubBackoffError } from './github-backoff.js';
import { reportRun } from './report-run.js';
import { withRedisLock } from '../redis/with-redis-lock.js';
import {
  createWriteBudget,
  gateOf,
  WriteDeferredError,
  type WriteBudgetOptions,
} from './write-budget.js';

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
  /** Changes of a running run within this window become one job. @defaultValue 1000 */
  debounceMs?: number;
  /** First retry delay, doubling up to 10 minutes. @defaultValue 2000 */
  retryBaseMs?: number;
  /**
   * Spacing of routine writes (pending statuses, comment edits); final
   * states are not spaced. @defaultValue 1000 (GitHub asks for ≥ 1 s)
   */
  minWriteIntervalMs?: number;
  /**
   * While GitHub refuses kiln, reports try it at most once per this long
   * (KILN_GITHUB_PROBE_INTERVAL_MS). @defaultValue 60000
   */
  probeIntervalMs?: number;
  /** For the client built from `settings` (KILN_GITHUB_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  /** Limits of the shared write budget (write-budget.ts defaults). */
  budget?: Omit<WriteBudgetOptions, 'keys' | 'routineSpacingMs'>;
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
  /**
   * Queues a report of the run (debounced; `final` for a finished run:
   * at once, ahead of others); cheap, never throws.
   */
  queueReport(runId: string, options?: { final?: boolean }): void;
  startReportWorker(options?: { concurrency?: number }): void;
  /**
   * Stops following events and the worker. With `flushUntil` (epoch ms),
   * first reads the events not yet read and posts every report due before
   * then; what is left stays queued for the next kiln. Idempotent.
   */
  close(options?: { flushUntil?: number }): Promise<CloseResult>;
}

export interface CloseResult {
  /** Report jobs still queued (left for the next kiln). */
  left: number;
}

// About 33 hours of retries at the 10-minute cap.
const ATTEMPTS = 200;
const MAX_RETRY_MS = 10 * 60_000;
/** A job that finds its run's report being written looks again this soon. */
const RUN_BUSY_MS = 200;
const PRIORITY = { final: 1, routine: 10 } as const;
/** Events a dead consumer read and never acknowledged are taken after this. */
const CLAIM_IDLE_MS = 10_000;
const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_RUN_STATUSES);
/**
 * KEYS: a BullMQ queue's wait list, prioritized set, active list, delayed
 * set; ARGV[1]: a delayed-set score. Returns {jobs waiting or running,
 * delayed jobs due before the score, all delayed jobs}.
 */
const QUEUE_STATE = `
local busy = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('LLEN', KEYS[3])
return {busy, redis.call('ZCOUNT', KEYS[4], '-inf', ARGV[1]), redis.call('ZCARD', KEYS[4])}`;

export function createReporter(deps: ReporterDeps): Reporter {
  const { logger } = deps;
  const github =
    deps.github !== undefined
      ? deps.github
      : createGithubClient({
          settings: deps.settings,
          logger,
          minWriteIntervalMs: deps.minWriteIntervalMs,
          requestTimeoutMs: deps.requestTimeoutMs,
          onRateLimited: (seconds) => {
            void extendBackoff(deps.redis, {
              keys: deps.keys,
              until: Date.now() + seconds * 1000,
              probeIntervalMs: deps.probeIntervalMs,
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
  const gate = gateOf(
    createWriteBudget(deps.redis, {
      ...deps.budget,
      keys: deps.keys,
      routineSpacingMs: deps.minWriteIntervalMs ?? 1000,
    }),
  );
  const consumer = `${hostname()}-${process.pid}`;
  let queue: Queue | undefined;
  let worker: Worker | undefined;
  let following: Promise<void> | undefined;
  let stopping = false;
  let reader: Redis | undefined;
  let closing: Promise<CloseResult> | undefined;
  // Messages already logged at warn level; bounded, so a long-running
  // kiln facing many distinct failures does not grow it without end.
  const warned = new Set<string>();
  function firstTime(message: string): boolean {
    if (warned.has(message)) return false;
    if (warned.size >= 200) warned.clear();
    warned.add(message);
    return true;
  }

  function queueOf(): Queue {
    queue ??= new Queue(deps.queueName ?? REPORT_QUEUE, {
      connection: deps.bullConnection,
      prefix: deps.keys.bullPrefix,
    });
    return queue;
  }

  function queueReport(runId: string, final: boolean): Promise<unknown> {
    const common = {
      attempts: ATTEMPTS,
      backoff: { type: 'report' },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
    };
    if (final) {
      // The run's last word: at once and ahead of routine reports. A
      // debounced job still waiting for the run is harmless (it will find
      // everything posted).
      return queueOf().add(
        'report',
        { runId },
        {
          ...common,
          priority: PRIORITY.final,
          deduplication: { id: `${runId}:final`, ttl: debounceMs },
        },
      );
    }
    return queueOf().add(
      'report',
      { runId },
      {
        ...common,
        delay: debounceMs,
        priority: PRIORITY.routine,
        deduplication: {
          id: runId,
          ttl: debounceMs,
          extend: true,
          replace: true,
        },
      },
    );
  }

  /** Queues the report an event asks for, then acknowledges the event. */
  async function handleEntries(
    connection: Redis,
    entries: Array<[string, string[] | null]>,
  ): Promise<void> {
    for (const [id, fields] of entries) {
      const event = fields ? parseRunEvent(fields) : null;
      if (event)
        await queueReport(
          event.runId,
          event.kind === 'run' && TERMINAL.has(event.status),
        );
      await connection.xack(deps.keys.events, GROUP, id);
    }
  }

  /**
   * The consumer group loop: each status change queues a report, then is
   * acknowledged. Entries a dead consumer read but never acknowledged are
   * claimed after a minute, so none is lost with a crashed server.
   */
  async function follow(connection: Redis): Promise<void> {
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
          CLAIM_IDLE_MS,
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
        await handleEntries(connection, [
          ...claimed,
          ...(reply?.[0]?.[1] ?? []),
        ]);
      } catch (error) {
        if (stopping) return;
        logger.warn({ err: error }, 'reporter could not read run events');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /**
   * The events this consumer read and did not acknowledge, then the ones
   * nobody read yet, without blocking: what a shutdown must not leave
   * behind.
   */
  async function drainEvents(connection: Redis): Promise<void> {
    for (const from of ['0', '>']) {
      for (let round = 0; round < 50; round += 1) {
        const reply = (await connection.xreadgroup(
          'GROUP',
          GROUP,
          consumer,
          'COUNT',
          200,
          'STREAMS',
          deps.keys.events,
          from,
        )) as Array<[string, Array<[string, string[] | null]>]> | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) break;
        await handleEntries(connection, entries);
      }
    }
  }

  async function processJob(job: Job<{ runId: string }>, token?: string) {
    if (!github) return;
    const runId = String(job.data.runId);
    // Changes from now on schedule a new job instead of folding into this
    // one, which may already have read the run.
    await job.removeDeduplicationKey().catch(() => false);
    let deferTo: number | undefined;
    try {
      const result = await withRedisLock(
        deps.redis,
        { key: deps.keys.githubLock(runId) },
        () =>
          reportRun(
            {
              redis: deps.redis,
              keys: deps.keys,
              configs: deps.configs,
              runs: deps.runs,
              executions: deps.executions,
              publicUrl: deps.settings.publicUrl,
              history: deps.history,
              github,
              gate,
              logger,
              probeIntervalMs: deps.probeIntervalMs,
            },
            runId,
          ),
      );
      // Another job is writing this run's report: look again once it is
      // done (it may have read the run before the change this job is for).
      if (!result.locked) deferTo = Date.now() + RUN_BUSY_MS;
    } catch (error) {
      if (error instanceof WriteDeferredError) {
        deferTo = error.until;
      } else if (error instanceof GithubBackoffError) {
        deferTo = error.until + Math.random() * 1000;
      } else if ((error as { status?: number }).status === 422) {
        const message = (error as Error).message;
        if (firstTime(message)) {
          logger.warn(
            { err: error, runId },
            'GitHub refused a report (422): not retried',
          );
        }
        throw new UnrecoverableError(message);
      } else {
        // Octokit's own line for a refused connection says only "500 with
        // id UNKNOWN": say the cause once per distinct message.
        if (firstTime((error as Error).message)) {
          logger.warn({ err: error, runId }, 'report failed; retrying later');
        } else {
          logger.debug({ err: error, runId }, 'report failed; retrying later');
        }
        throw error;
      }
    }
    if (deferTo !== undefined) {
      // Jitter: jobs that stepped aside together don't come back together.
      await job.moveToDelayed(deferTo + Math.random() * 50, token);
      throw new DelayedError();
    }
  }

  /**
   * Waits until no report job is waiting, running or delayed to before
   * `until`, or until then; resolves how many jobs are still queued.
   */
  async function flush(until: number): Promise<number> {
    // BullMQ's own keys, read in one script so a job moving between them
    // (promoted, or stepping aside) is never missed.
    const queueKey = `${deps.keys.bullPrefix}:${queueOf().name}`;
    for (;;) {
      const [busy, due, delayed] = (await deps.redis.eval(
        QUEUE_STATE,
        4,
        `${queueKey}:wait`,
        `${queueKey}:prioritized`,
        `${queueKey}:active`,
        `${queueKey}:delayed`,
        // Delayed jobs are scored by their due time × 0x1000.
        String(until * 0x1000),
      )) as [number, number, number];
      if ((busy === 0 && due === 0) || Date.now() >= until)
        return busy + delayed;
      await sleep(50);
    }
  }

  return {
    enabled: github !== null,
    github,
    notes,
    queueReport(runId, options = {}) {
      if (!github) return;
      queueReport(runId, options.final === true).catch((error: unknown) =>
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
        // A killed kiln's jobs come back within seconds; a report job may
        // run again any number of times (it is idempotent).
        lockDuration: 10_000,
        stalledInterval: 5_000,
        maxStalledCount: 1000,
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
    close(options = {}) {
      closing ??= (async () => {
        stopping = true;
        reader?.disconnect();
        await following;
        let left = 0;
        const until = options.flushUntil;
        if (worker && until !== undefined) {
          try {
            const started = Date.now();
            await drainEvents(deps.redis);
            left = await flush(until);
            logger.info(
              { left, ms: Date.now() - started },
              'GitHub reports due at shutdown posted',
            );
          } catch (error) {
            logger.warn({ err: error }, 'could not flush the GitHub reports');
          }
          if (left > 0) {
            logger.warn(
              { left },
              'GitHub reports still queued at shutdown: the next kiln to start posts them',
            );
          }
        }
        // Past the deadline a job still writing is abandoned: its lock
        // lapses and another kiln takes it up.
        await worker?.close(until !== undefined && Date.now() >= until);
        await queue?.close();
        return { left };
      })();
      return closing;
    },
  };
}
