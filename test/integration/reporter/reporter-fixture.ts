/**
 * A reporter wired to a real Redis and the GitHub stand-in. Runs are
 * stored as the control plane creates them (queued, both nodes queued) and
 * move on through the control plane's node events, the way a worker
 * reports them: the reporter sees every change on the run event stream.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pino from 'pino';
import { applyNodeEvent } from '../../../src/control/apply-node-event.js';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import { loadRunPlan } from '../../../src/control/load-run-plan.js';
import type { GithubClient } from '../../../src/forge/github/create-github-client.js';
import { createGithubClient } from '../../../src/forge/github/create-github-client.js';
import type { RunNodeState, RunRecord } from '../../../src/model/run.js';
import { CLAIMABLE_RUN_STATUSES } from '../../../src/orchestrator/run-machine.js';
import { createStepQueue } from '../../../src/queue/step-jobs.js';
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
  /** The control plane on the fixture's stores, on the fixture's clock. */
  control: ControlDeps;
  configKey: string;
  makeReporter(overrides?: Partial<ReporterDeps>): Reporter;
  /** A KILN_GITHUB_TOKEN client whose rate limits land in the fixture's Redis. */
  tokenClient(
    apiUrl: string,
    options?: { probeIntervalMs?: number; requestTimeoutMs?: number },
  ): GithubClient;
  /** Creates a run as stored after its creation (queued, nodes queued). */
  createRun(
    overrides: Partial<RunRecord> & { commit: string },
  ): Promise<RunRecord>;
  /**
   * Each node is claimed by a worker 1 s after the run's creation and ends
   * `complete` 134 s later, with these metrics on `train` (and `curve`,
   * the metrics lines `train` printed while it ran); a node named in
   * `reuse` ends `reused` with that earlier execution instead.
   */
  completeRun(
    run: RunRecord,
    metrics: Record<string, number>,
    options?: {
      reuse?: Record<string, string>;
      curve?: Array<Record<string, number>>;
    },
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
  const configKey = await stores.configs.store(CONFIG);
  const reporters: Reporter[] = [];
  const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
  const queueName = `reports-${prefix}`;
  const steps = createStepQueue(bull, stores.keys.bullPrefix);
  // Node events carry the times a worker would see (`completeRun`).
  let clock: Date | undefined;
  const control: ControlDeps = {
    runs: stores.runs,
    executions: stores.executions,
    configs: stores.configs,
    steps,
    logger,
    now: () => clock ?? new Date(),
  };

  return {
    redis,
    bull,
    prefix,
    stores,
    control,
    configKey,
    makeReporter(overrides = {}) {
      const reporter = createReporter({
        redis,
        bullConnection: bull,
        keys: stores.keys,
        runs: stores.runs,
        configs: stores.configs,
        executions: stores.executions,
        logger,
        settings: { publicUrl: PUBLIC_URL },
        debounceMs: 50,
        retryBaseMs: 100,
        minWriteIntervalMs: 0,
        queueName,
        ...overrides,
      });
      reporters.push(reporter);
      return reporter;
    },
    tokenClient(apiUrl, options = {}) {
      const client = createGithubClient({
        settings: { githubApiUrl: apiUrl, githubToken: TOKEN },
        logger,
        minWriteIntervalMs: 0,
        retries: 1,
        retryBaseMs: 10,
        requestTimeoutMs: options.requestTimeoutMs,
        onRateLimited: (seconds) => {
          void extendBackoff(redis, {
            keys: stores.keys,
            until: Date.now() + seconds * 1000,
            probeIntervalMs: options.probeIntervalMs,
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
          queuedNode({ name: 'prepare', step: 'prepare', index: 0 }),
          queuedNode({ name: 'train', step: 'train', index: 1 }),
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
      await stores.runs.createRun(run, {
        waits: {},
        queued: run.nodes
          .filter((node) => node.status === 'queued')
          .map((node) => node.name),
        skipped: [],
      });
      return run;
    },
    async completeRun(run, metrics, options = {}) {
      const { graph } = await loadRunPlan(stores.configs, run);
      const started = new Date(Date.parse(run.createdAt) + 1000);
      const ended = new Date(started.getTime() + 134_000);
      const reuse = options.reuse ?? {};
      try {
        clock = started;
        const claimed: RunNodeState[] = [];
        for (const node of (await stores.runs.getRun(run.id))?.nodes ?? []) {
          const claim = await applyNodeEvent(control, {
            run,
            graph,
            from: node,
            event: {
              type: 'claim',
              worker: 'worker-1',
              generation: node.generation,
              phase: reuse[node.name] ? 'pulling' : 'running',
            },
            runIn: CLAIMABLE_RUN_STATUSES,
            execution: (id, attempt) => ({
              id,
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
              metrics: {},
              status: 'started',
              runtime: 'docker',
              host: 'worker-1',
              attempt,
              createdAt: started.toISOString(),
              startedAt: started.toISOString(),
            }),
          });
          if (!claim.applied) throw new Error(`claim: ${claim.why}`);
          claimed.push(claim.node);
        }
        const train = claimed.find((node) => node.name === 'train');
        if (options.curve && train?.executionId) {
          await stores.executions.appendOutput(train.executionId, {
            metrics: options.curve.map((values, index) => ({
              time: new Date(started.getTime() + index * 1000).toISOString(),
              values,
            })),
          });
        }
        clock = ended;
        for (const node of claimed) {
          const earlier = reuse[node.name];
          const end = await applyNodeEvent(control, {
            run,
            graph,
            from: node,
            event: earlier
              ? {
                  type: 'reused',
                  attempt: node.attempt,
                  executionId: earlier,
                  message: `reused execution ${earlier}`,
                }
              : {
                  type: 'finished',
                  attempt: node.attempt,
                  outcome: 'complete',
                  message: 'exited with code 0',
                },
            close: {
              endReason: { kind: 'exited', exitCode: 0 },
              metrics: node.name === 'train' ? metrics : {},
              startedAt: started.toISOString(),
              endedAt: ended.toISOString(),
            },
          });
          if (!end.applied) throw new Error(`end: ${end.why}`);
        }
      } finally {
        clock = undefined;
      }
      const done = await stores.runs.getRun(run.id);
      if (done?.status !== 'complete') {
        throw new Error(`run ${run.id} ended ${done?.status}`);
      }
      return done;
    },
    async close() {
      for (const reporter of reporters) await reporter.close();
      await steps.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      bull.disconnect();
    },
  };
}

/** A node as a run's creation leaves it when nothing is upstream. */
function queuedNode(options: {
  name: string;
  step: string;
  index: number;
}): RunNodeState {
  return { ...options, status: 'queued', attempt: 0, generation: 1 };
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
