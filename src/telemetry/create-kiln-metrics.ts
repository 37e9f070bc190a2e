/**
 * kiln's Prometheus metrics for one process. Counters and histograms count
 * what this process did (webhook answers on a server, step jobs on a
 * worker); gauges are read from Redis and BullMQ when scraped, so every
 * process shows the same queue depths and recent delivery outcomes.
 *
 * Contract: call `createKilnMetrics` once per process (the service does)
 * and share it between the HTTP routes and the worker; `metrics()` may be
 * called concurrently and never throws for a Redis problem (a gauge that
 * could not be read is left out and `kiln_scrape_errors_total` counts it);
 * each read is bounded by `scrapeTimeoutMs`.
 *
 * GitHub reporting's state is read from the reporter's keys in Redis
 * (`kiln_github_reporting_broken`, `kiln_github_backoff_seconds`); GitHub
 * API calls and rate-limit headroom are not counted yet.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';
import { createDeliveryLog } from '../intake/delivery-log.js';
import { INTAKE_QUEUE } from '../intake/intake-queue.js';
import type { RunStatus } from '../model/run.js';
import { DEFAULT_STEP_QUEUE } from '../queue/step-jobs.js';
import type { RunStore } from '../store/run-store.js';

export interface KilnMetrics {
  registry: Registry;
  contentType: string;
  /** Counts one answer of `POST /webhooks/github` by HTTP status. */
  countWebhookAnswer(status: number): void;
  /** Counts one redelivery GitHub accepted from this server's redeliverer. */
  countRedeliveryRequested(source: string): void;
  /** Records one finished step job (worker side). */
  observeStepJob(outcome: StepJobOutcome, seconds?: number): void;
  /** The text exposition, gauges read now. */
  metrics(): Promise<string>;
  /** Closes the BullMQ queue handles. Idempotent. */
  close(): Promise<void>;
}

export type StepJobOutcome = 'completed' | 'failed';

export interface CreateKilnMetricsOptions {
  redis: Redis;
  keys: RedisKeys;
  runs?: RunStore;
  /** @defaultValue the step queue and the intake queue */
  queues?: string[];
  /** @defaultValue 2000 */
  scrapeTimeoutMs?: number;
  /** Process metrics (CPU, memory, event loop). @defaultValue true */
  processMetrics?: boolean;
  /** Whether Redis lost kiln's data (`kiln_store_lost`); absent: not exported. */
  storeLost?: () => boolean;
}

const ACTIVE_STATUSES: RunStatus[] = [
  'created',
  'waiting-approval',
  'queued',
  'running',
];
const JOB_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'failed',
  'completed',
] as const;
const RECENT_DELIVERIES = 500;

export function createKilnMetrics(
  options: CreateKilnMetricsOptions,
): KilnMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'kiln_process_' });
  }
  const timeoutMs = options.scrapeTimeoutMs ?? 2_000;
  const queueNames = options.queues ?? [DEFAULT_STEP_QUEUE, INTAKE_QUEUE];
  const queues = queueNames.map(
    (name) =>
      new Queue(name, {
        connection: options.redis,
        prefix: options.keys.bullPrefix,
      }),
  );
  for (const queue of queues) queue.on('error', () => undefined);
  const deliveries = createDeliveryLog(options.redis, { keys: options.keys });

  const scrapeErrors = new Counter({
    name: 'kiln_scrape_errors_total',
    help: 'Gauges that could not be read from Redis at scrape time',
    labelNames: ['gauge'],
    registers: [registry],
  });
  const guarded = async (gauge: string, read: () => Promise<void>) => {
    try {
      await withTimeout(read(), timeoutMs);
    } catch {
      scrapeErrors.inc({ gauge });
    }
  };

  const webhookAnswers = new Counter({
    name: 'kiln_webhook_answers_total',
    help: 'Answers to POST /webhooks/github by HTTP status (202 queued, 200 duplicate, 4xx refused, 503 not stored)',
    labelNames: ['status'],
    registers: [registry],
  });
  const stepJobs = new Counter({
    name: 'kiln_step_jobs_total',
    help: 'Step jobs this worker finished, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const redeliveries = new Counter({
    name: 'kiln_webhook_redeliveries_requested_total',
    help: 'Failed GitHub deliveries this server asked GitHub to redeliver, by webhook (app, repo:<owner/name>:<hook id>)',
    labelNames: ['source'],
    registers: [registry],
  });
  const stepSeconds = new Histogram({
    name: 'kiln_step_job_duration_seconds',
    help: 'Time from a worker taking a step job to finishing it',
    labelNames: ['outcome'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
    registers: [registry],
  });

  new Gauge({
    name: 'kiln_queue_jobs',
    help: 'Jobs in a BullMQ queue by state, read at scrape time',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        await guarded('kiln_queue_jobs', async () => {
          const counts = await queue.getJobCounts(...JOB_STATES);
          for (const state of JOB_STATES) {
            this.set({ queue: queue.name, state }, counts[state] ?? 0);
          }
        });
      }
    },
  });
  new Gauge({
    name: 'kiln_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting in a queue (0 when none waits)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        await guarded('kiln_queue_oldest_waiting_seconds', async () => {
          const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
          const age = oldest ? (Date.now() - oldest.timestamp) / 1000 : 0;
          this.set({ queue: queue.name }, Math.max(0, age));
        });
      }
    },
  });
  new Gauge({
    name: 'kiln_deliveries_recent',
    help: `Outcomes of the last ${RECENT_DELIVERIES} webhook deliveries in the delivery log`,
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      await guarded('kiln_deliveries_recent', async () => {
        const records = await deliveries.listDeliveries({
          limit: RECENT_DELIVERIES,
        });
        const counts = new Map<string, number>();
        for (const record of records) {
          const status = String(record.status ?? 'unknown');
          counts.set(status, (counts.get(status) ?? 0) + 1);
        }
        for (const [status, count] of counts) this.set({ status }, count);
      });
    },
  });
  new Gauge({
    name: 'kiln_github_reporting_broken',
    help: "1 while GitHub refuses kiln's credentials (a 401 even with a new token): nothing is posted until the App or KILN_GITHUB_TOKEN is fixed",
    registers: [registry],
    async collect() {
      this.reset();
      await guarded('kiln_github_reporting_broken', async () => {
        this.set(
          (await options.redis.exists(options.keys.githubBroken)) ? 1 : 0,
        );
      });
    },
  });
  new Gauge({
    name: 'kiln_github_backoff_seconds',
    help: 'Seconds until reports may write to GitHub again (a rate limit, or refused credentials); 0 when they may now',
    registers: [registry],
    async collect() {
      this.reset();
      await guarded('kiln_github_backoff_seconds', async () => {
        const until = Number(
          await options.redis.get(options.keys.githubBackoff),
        );
        const left = Number.isFinite(until) ? (until - Date.now()) / 1000 : 0;
        this.set(Math.max(0, left));
      });
    },
  });
  if (options.storeLost) {
    const storeLost = options.storeLost;
    new Gauge({
      name: 'kiln_store_lost',
      help: "1 once Redis lost kiln's data (its store epoch vanished or changed) since this process started: restart kiln after recovering",
      registers: [registry],
      collect() {
        this.set(storeLost() ? 1 : 0);
      },
    });
  }
  if (options.runs) {
    const runs = options.runs;
    new Gauge({
      name: 'kiln_runs_unfinished',
      help: 'Runs not finished yet, by status (at most 1000 counted per status)',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        this.reset();
        await guarded('kiln_runs_unfinished', async () => {
          for (const status of ACTIVE_STATUSES) {
            const found = await runs.listRuns({ status, limit: 1000 });
            this.set({ status }, found.length);
          }
        });
      },
    });
  }

  let closing: Promise<void> | undefined;
  return {
    registry,
    contentType: registry.contentType,
    countWebhookAnswer(status) {
      webhookAnswers.inc({ status: String(status) });
    },
    countRedeliveryRequested(source) {
      redeliveries.inc({ source });
    },
    observeStepJob(outcome, seconds) {
      stepJobs.inc({ outcome });
      if (seconds !== undefined && Number.isFinite(seconds) && seconds >= 0) {
        stepSeconds.observe({ outcome }, seconds);
      }
    },
    metrics: () => registry.metrics(),
    close() {
      closing ??= Promise.all(queues.map((queue) => queue.close())).then(
        () => undefined,
      );
      return closing;
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
