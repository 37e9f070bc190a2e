/**
 * A reporter wired to a real Redis and the GitHub stand-in, with helpers
 * that write realistic runs and executions straight into the stores (the
 * way the orchestrator and workers do).
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { GithubClient } from '../../../src/forge/github/create-github-client.js';
import { createGithubClient } from '../../../src/forge/github/create-github-client.js';
import type { ExecutionRecord } from '../../../src/model/execution.js';
import type { RunRecord } from '../../../src/model/run.js';
import { storeConfigText } from '../../../src/orchestrator/config-texts.js';
import {
  createReporter,
  type Reporter,
  type ReporterDeps,
} from '../../../src/reporter/start-reporter.js';
import { createStores, type Stores } from '../../../src/store/index.js';
import { extendBackoff } from '../../../src/reporter/github-backoff.js';

export const REPO = 'acme/models';
export const TOKEN = 'ghp_test_token';
export const PUBLIC_URL = 'https://kiln.example.com';

export const CONFIG = `
- step:
    name: prepare
    image: python:3.12
    command: python prepare.py
- step:
    name: train
    image: python:3.12
    command: python train.py
    parameters:
      - name: learning_rate
        type: float
        default: 0.1
- pipeline:
    name: train-evaluate
    nodes:
      - name: prepare
        type: execution
        step: prepare
      - name: train
        type: execution
        step: train
    edges: []
- report:
    metrics:
      - name: accuracy
        goal: maximize
        fail-if-regresses-by: 0.02
      - name: loss
        goal: minimize
`;

/** A commit SHA per seed whose first 7 characters differ too. */
export function sha(seed: number): string {
  return createHash('sha1').update(String(seed)).digest('hex');
}

export interface ReporterFixture {
  redis: Redis;
  bull: Redis;
  prefix: string;
  stores: Stores;
  configKey: string;
  makeReporter(overrides?: Partial<ReporterDeps>): Reporter;
  tokenClient(apiUrl: string): GithubClient;
  /** Creates a run as stored after its creation. */
  createRun(
    overrides: Partial<RunRecord> & { commit: string },
  ): Promise<RunRecord>;
  /** Every node ends `complete` with these metrics on `train`. */
  completeRun(
    run: RunRecord,
    metrics: Record<string, number>,
    reporter: Reporter,
  ): Promise<RunRecord>;
  close(): Promise<void>;
}

let counter = 0;

export async function createReporterFixture(
  url: string,
): Promise<ReporterFixture> {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const redis = new Redis(url);
  const bull = new Redis(url, { maxRetriesPerRequest: null });
  const stores = createStores(redis, { prefix });
  const configKey = await storeConfigText(redis, prefix, CONFIG);
  const reporters: Reporter[] = [];
  const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
  const queueName = `reports-${prefix}`;

  return {
    redis,
    bull,
    prefix,
    stores,
    configKey,
    makeReporter(overrides = {}) {
      const reporter = createReporter({
        redis,
        bullConnection: bull,
        prefix,
        runs: stores.runs,
        executions: stores.executions,
        logger,
        settings: { publicUrl: PUBLIC_URL },
        debounceMs: 50,
        retryBaseMs: 100,
        queueName,
        ...overrides,
      });
      reporters.push(reporter);
      return reporter;
    },
    tokenClient(apiUrl) {
      const client = createGithubClient({
        settings: { githubApiUrl: apiUrl, githubToken: TOKEN },
        logger,
        minWriteIntervalMs: 0,
        retries: 1,
        retryBaseMs: 10,
        onRateLimited: (seconds) => {
          void extendBackoff(redis, {
            prefix,
            until: Date.now() + seconds * 1000,
          });
        },
      });
      if (!client) throw new Error('no client');
      return client;
    },
    async createRun(overrides) {
      counter += 1;
      const run: RunRecord = {
        id: `r${prefix}${counter}`,
        counter,
        repository: REPO,
        ref: 'refs/heads/main',
        kind: 'pipeline',
        name: 'train-evaluate',
        status: 'queued',
        parameters: { learning_rate: 0.1 },
        nodes: [
          { name: 'prepare', step: 'prepare', status: 'pending', attempt: 1 },
          { name: 'train', step: 'train', status: 'pending', attempt: 1 },
        ],
        trigger: { event: 'push', fork: false },
        createdAt: new Date().toISOString(),
        config: { file: 'kiln.yaml', key: configKey },
        source: {
          id: 'github.com/acme/models',
          url: 'https://github.com/acme/models.git',
        },
        trusted: true,
        runtime: 'docker',
        ...overrides,
      };
      await stores.runs.createRun(run);
      return run;
    },
    async completeRun(run, metrics, reporter) {
      const started = new Date(Date.parse(run.createdAt) + 1000);
      const ended = new Date(started.getTime() + 134_000);
      await stores.runs.updateRun(run.id, {
        status: 'running',
        startedAt: started.toISOString(),
      });
      reporter.onRunChange(run.id);
      for (const node of run.nodes) {
        const execution: ExecutionRecord = {
          id: `${run.id}-${node.name}`,
          counter: await stores.executions.allocateCounter(run.repository),
          repository: run.repository,
          commit: run.commit,
          step: node.step,
          runId: run.id,
          node: node.name,
          image: 'python:3.12',
          imageDigest: null,
          command: [`python ${node.step}.py`],
          parameters: run.parameters,
          inputs: [],
          outputs: [],
          metrics: node.name === 'train' ? metrics : {},
          status: 'complete',
          runtime: 'docker',
          host: 'worker-1',
          attempt: 1,
          createdAt: started.toISOString(),
          startedAt: started.toISOString(),
          endedAt: ended.toISOString(),
        };
        await stores.executions.createExecution(execution);
        await stores.runs.updateRunNode(run.id, node.name, {
          status: 'complete',
          executionId: execution.id,
          startedAt: started.toISOString(),
          endedAt: ended.toISOString(),
        });
        reporter.onRunChange(run.id);
      }
      const done = await stores.runs.updateRun(run.id, {
        status: 'complete',
        endedAt: ended.toISOString(),
      });
      reporter.onRunChange(run.id);
      return done;
    },
    async close() {
      for (const reporter of reporters) await reporter.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      bull.disconnect();
    },
  };
}

/** Polls until `check` returns true (the work is asynchronous by design). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 40_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
