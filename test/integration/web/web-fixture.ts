/**
 * A real kiln server for API and browser tests: a private redis-server,
 * the stores, the control plane with a step queue (no worker unless asked),
 * the run event feed that live pages and log streams follow, git, an
 * artifact store in a temp dir, `createApp` on a loopback port, and one
 * admin and one viewer token. A local git repository holds the
 * configuration launches read; `seedRun` records a run whose source points
 * at it, `startRun` one whose first node a worker claimed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { FsArtifactStore } from '../../../src/artifacts/fs-artifact-store.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import { applyNodeEvent } from '../../../src/control/apply-node-event.js';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import { loadRunPlan } from '../../../src/control/load-run-plan.js';
import type { ExecutionRecord } from '../../../src/model/execution.js';
import type {
  RunNodeState,
  RunRecord,
  RunStatus,
} from '../../../src/model/run.js';
import { executionIdFor } from '../../../src/orchestrator/node-machine.js';
import { CLAIMABLE_RUN_STATUSES } from '../../../src/orchestrator/run-machine.js';
import { createStepQueue } from '../../../src/queue/step-jobs.js';
import { createTokenStore } from '../../../src/http/auth/token-store.js';
import { createApp } from '../../../src/engine/create-app.js';
import type { ServerDeps } from '../../../src/http/server-deps.js';
import { readSettings } from '../../../src/settings.js';
import { createStreamFollower } from '../../../src/redis/stream-follower.js';
import { createStores, type Stores } from '../../../src/store/create-stores.js';
import { createRunEventFeed } from '../../../src/store/run-event-feed.js';
import {
  commitAll,
  createRepo,
  git,
  writeFiles,
} from '../../helpers/git-repo.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';

export const REPOSITORY = 'acme/models';

export const KILN_YAML = `- step:
    name: train
    image: busybox
    command: echo train {parameters}
    parameters:
      - name: learning_rate
        type: float
        default: 0.1
        min: 0
        max: 1
      - name: epochs
        type: integer
        default: 3
      - name: optimizer
        type: string
        default: adam
        choices: [adam, sgd]
- step:
    name: evaluate
    image: busybox
    command: echo evaluate
- pipeline:
    name: train-evaluate
    nodes:
      - name: train
        type: execution
        step: train
      - name: evaluate
        type: execution
        step: evaluate
    edges:
      - [train.output.*, evaluate.input.model]
`;

export interface WebFixture {
  url: string;
  redis: TestRedis;
  deps: ServerDeps;
  control: ControlDeps;
  stores: Stores;
  /** The stored key of KILN_YAML (the configuration of seeded runs). */
  configKey: string;
  adminToken: string;
  viewerToken: string;
  repoDir: string;
  head: string;
  artifactsDir: string;
  /**
   * A run record (status `complete`) whose source is the local repo, with
   * KILN_YAML as its configuration; its nodes are in a state that fits
   * its status unless given.
   */
  seedRun(
    overrides?: Partial<RunRecord>,
    options?: {
      /** Execution records of these (ended) nodes, as their attempts made them. */
      executions?: Record<string, Partial<ExecutionRecord>>;
    },
  ): Promise<RunRecord>;
  /** An execution outside runs (any status). */
  seedExecution(
    overrides: Partial<ExecutionRecord> & { id: string },
  ): Promise<ExecutionRecord>;
  /**
   * A queued run of train-evaluate whose `train` node a worker then
   * claimed, through the control plane: the run is running, the node
   * started and its execution record `started` (with `execution`'s fields).
   */
  startRun(options?: {
    execution?: Partial<ExecutionRecord>;
  }): Promise<{ run: RunRecord; node: RunNodeState; executionId: string }>;
  /** A worker claims a queued node of a run (its attempt starts running). */
  claimNode(
    runId: string,
    name: string,
    execution?: Partial<ExecutionRecord>,
  ): Promise<{ node: RunNodeState; executionId: string }>;
  /** The attempt of a started node ends (as a worker reports it). */
  finishNode(
    run: RunRecord,
    node: RunNodeState,
    outcome?: 'complete' | 'error' | 'stopped',
    close?: Partial<ExecutionRecord>,
  ): Promise<RunNodeState>;
  /** fetch against the server with an optional bearer token. */
  request(
    path: string,
    options?: {
      token?: string;
      method?: string;
      body?: unknown;
      headers?: Record<string, string>;
    },
  ): Promise<Response>;
  close(): Promise<void>;
}

let seeded = 0;

export async function startWebFixture(
  options: { env?: Record<string, string> } = {},
): Promise<WebFixture> {
  const redis = await startTestRedis();
  const temp = mkdtempSync(join(tmpdir(), 'kiln-web-'));
  const settings = readSettings({
    KILN_DATA_DIR: join(temp, 'data'),
    REDIS_URL: redis.url,
    KILN_REDIS_PREFIX: 'kw',
    KILN_ALLOW_LOCAL_REPOSITORIES: 'true',
    KILN_LOG_LEVEL: 'silent',
    ...options.env,
  });
  const logger = pino({ level: process.env.KILN_TEST_LOG ?? 'silent' });
  const producer = new Redis(redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  producer.on('error', () => undefined);
  await new Promise((resolve) => producer.once('ready', resolve));
  const bull = new Redis(redis.url, { maxRetriesPerRequest: null });
  bull.on('error', () => undefined);
  const stores = createStores(producer, { prefix: settings.redisPrefix });
  const steps = createStepQueue(bull, stores.keys.bullPrefix);
  const control: ControlDeps = {
    executions: stores.executions,
    runs: stores.runs,
    configs: stores.configs,
    steps,
    logger,
  };
  const configKey = await stores.configs.store(KILN_YAML);
  // Live pages and log streams follow the run event streams.
  const follower = createStreamFollower({
    redis: producer,
    onError: (error) => logger.warn({ err: error }, 'event stream'),
  });
  const artifactsDir = join(temp, 'artifacts');
  const deps: ServerDeps = {
    settings,
    logger,
    redis: producer,
    keys: stores.keys,
    control,
    feed: createRunEventFeed(follower, stores.keys),
    git: new GitMaterialiser({
      cacheDir: join(temp, 'git-cache'),
      fetchAttempts: 1,
    }),
    artifacts: new FsArtifactStore(artifactsDir),
  };
  const server: Server = createServer(createApp(deps));
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;

  const tokens = createTokenStore(producer, { keys: stores.keys });
  const adminToken = (await tokens.createToken({ name: 'ci', role: 'admin' }))
    .token;
  const viewerToken = (
    await tokens.createToken({ name: 'reader', role: 'viewer' })
  ).token;

  const repoDir = createRepo({ 'kiln.yaml': KILN_YAML }, 'kiln-web-repo-');
  const head = git(repoDir, 'rev-parse', 'HEAD');

  async function seedExecution(
    overrides: Partial<ExecutionRecord> & { id: string },
  ): Promise<ExecutionRecord> {
    const record: ExecutionRecord = {
      // The store allocates the counter.
      counter: 0,
      repository: REPOSITORY,
      commit: head,
      step: 'train',
      image: 'busybox',
      imageDigest: 'sha256:' + 'c'.repeat(64),
      command: ['echo train'],
      parameters: { learning_rate: 0.1, epochs: 3 },
      inputs: [],
      outputs: [],
      metrics: {},
      status: 'complete',
      runtime: 'local',
      host: 'test-host',
      attempt: 1,
      createdAt: new Date().toISOString(),
      ...overrides,
    };
    await stores.executions.createExecution(record);
    return (await stores.executions.getExecution(record.id)) ?? record;
  }

  async function seedRun(
    overrides: Partial<RunRecord> = {},
    options: { executions?: Record<string, Partial<ExecutionRecord>> } = {},
  ): Promise<RunRecord> {
    seeded += 1;
    const status = overrides.status ?? 'complete';
    const id = overrides.id ?? `rseed${seeded}${Date.now().toString(36)}`;
    const record: RunRecord = {
      id,
      counter: await stores.runs.allocateRunCounter(
        overrides.repository ?? REPOSITORY,
      ),
      repository: REPOSITORY,
      commit: head,
      ref: 'refs/heads/main',
      kind: 'pipeline',
      name: 'train-evaluate',
      status,
      parameters: {},
      nodes: nodesFor(id, status),
      trigger: { event: 'push', sender: 'octocat' },
      createdAt: new Date().toISOString(),
      source: { id: `github.com/${REPOSITORY}`, url: repoDir },
      config: { file: 'kiln.yaml', key: configKey },
      ...overrides,
    };
    // The run's executions are its nodes' attempts (found by their ids).
    for (const [name, fields] of Object.entries(options.executions ?? {})) {
      const index = record.nodes.findIndex((node) => node.name === name);
      const node = record.nodes[index];
      if (!node || node.attempt < 1) {
        throw new Error(`seedRun: node ${name} has no attempt`);
      }
      const id = executionIdFor(record.id, node.index, node.attempt);
      await seedExecution({
        step: node.step,
        status: node.status === 'error' ? 'error' : 'complete',
        ...fields,
        id,
        runId: record.id,
        node: fields.node ?? node.name,
        attempt: node.attempt,
      });
      record.nodes = record.nodes.map((item, position) =>
        position === index ? { ...item, executionId: id } : item,
      );
    }
    await stores.runs.createRun(record, {
      waits: {},
      queued: namesIn(record.nodes, 'queued'),
      skipped: namesIn(record.nodes, 'skipped'),
    });
    return record;
  }

  return {
    url,
    redis,
    deps,
    control,
    stores,
    configKey,
    adminToken,
    viewerToken,
    repoDir,
    head,
    artifactsDir,
    seedRun,
    seedExecution,
    async claimNode(runId, name, execution = {}) {
      const run = await stores.runs.getRun(runId);
      const from = run?.nodes.find((node) => node.name === name);
      if (!run || !from) throw new Error(`no node ${name} in run ${runId}`);
      const { graph } = await loadRunPlan(stores.configs, run);
      const claim = await applyNodeEvent(control, {
        run,
        graph,
        from,
        event: {
          type: 'claim',
          worker: 'test-worker',
          generation: from.generation,
          phase: 'running',
        },
        runIn: CLAIMABLE_RUN_STATUSES,
        execution: (id, attempt) => ({
          id,
          repository: run.repository,
          commit: run.commit,
          step: from.step,
          runId: run.id,
          node: name,
          image: 'busybox',
          imageDigest: 'sha256:' + 'c'.repeat(64),
          command: [`echo ${name}`],
          parameters: {},
          inputs: [],
          outputs: [],
          metrics: {},
          status: 'started',
          runtime: 'local',
          host: 'test-host',
          attempt,
          createdAt: new Date().toISOString(),
          startedAt: new Date().toISOString(),
          ...execution,
        }),
      });
      if (!claim.applied) throw new Error(`claim refused: ${claim.why}`);
      return {
        node: claim.node,
        executionId: claim.node.executionId as string,
      };
    },
    async startRun(options = {}) {
      const queued = await seedRun({ status: 'queued' });
      const { graph } = await loadRunPlan(stores.configs, queued);
      const claim = await applyNodeEvent(control, {
        run: queued,
        graph,
        from: queued.nodes[0]!,
        event: {
          type: 'claim',
          worker: 'test-worker',
          generation: queued.nodes[0]!.generation,
          phase: 'running',
        },
        runIn: CLAIMABLE_RUN_STATUSES,
        execution: (id, attempt) => ({
          id,
          repository: queued.repository,
          commit: queued.commit,
          step: 'train',
          runId: queued.id,
          node: 'train',
          image: 'busybox',
          imageDigest: 'sha256:' + 'c'.repeat(64),
          command: ['echo train'],
          parameters: { learning_rate: 0.1, epochs: 3 },
          inputs: [],
          outputs: [],
          metrics: {},
          status: 'started',
          runtime: 'local',
          host: 'test-host',
          attempt,
          createdAt: new Date().toISOString(),
          startedAt: new Date().toISOString(),
          ...options.execution,
        }),
      });
      if (!claim.applied) throw new Error(`claim refused: ${claim.why}`);
      const run = await stores.runs.getRun(queued.id);
      if (run?.status !== 'running') {
        throw new Error(`run ${queued.id} is ${run?.status}, not running`);
      }
      return {
        run,
        node: claim.node,
        executionId: claim.node.executionId as string,
      };
    },
    async finishNode(run, node, outcome = 'complete', close = {}) {
      const { graph } = await loadRunPlan(stores.configs, run);
      const finished = await applyNodeEvent(control, {
        run,
        graph,
        from: node,
        event: {
          type: 'finished',
          attempt: node.attempt,
          outcome,
          message: outcome === 'complete' ? 'exited with code 0' : outcome,
        },
        close: {
          endReason:
            outcome === 'stopped'
              ? { kind: 'stopped' }
              : { kind: 'exited', exitCode: outcome === 'complete' ? 0 : 1 },
          endedAt: new Date().toISOString(),
          ...close,
        },
      });
      if (!finished.applied) throw new Error(`end refused: ${finished.why}`);
      return finished.node;
    },
    async request(path, request = {}) {
      const headers: Record<string, string> = { ...request.headers };
      if (request.token) headers.authorization = `Bearer ${request.token}`;
      let body: string | undefined;
      if (request.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body =
          typeof request.body === 'string'
            ? request.body
            : JSON.stringify(request.body);
      }
      return fetch(`${url}${path}`, {
        method: request.method ?? 'GET',
        headers,
        body,
        redirect: 'manual',
      });
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await follower.close();
      await steps.close();
      producer.disconnect();
      bull.disconnect();
      await redis.close();
      rmSync(temp, { recursive: true, force: true });
      rmSync(repoDir, { recursive: true, force: true });
    },
  };
}

/** train-evaluate's nodes as a run of this status has them. */
function nodesFor(runId: string, status: RunStatus): RunNodeState[] {
  const node = (
    name: string,
    index: number,
    state: Partial<RunNodeState>,
  ): RunNodeState => ({
    name,
    step: name,
    index,
    status: 'pending',
    attempt: 0,
    generation: 0,
    ...state,
  });
  const ended = {
    attempt: 1,
    generation: 1,
    endedAt: new Date().toISOString(),
  };
  switch (status) {
    case 'complete':
      return [
        node('train', 0, { status: 'complete', ...ended }),
        node('evaluate', 1, { status: 'complete', ...ended }),
      ];
    case 'created':
    case 'queued':
      return [
        node('train', 0, { status: 'queued', generation: 1 }),
        node('evaluate', 1, {}),
      ];
    case 'running':
      // Claimed, still pulling its image: no execution record yet.
      return [
        node('train', 0, {
          status: 'started',
          phase: 'pulling',
          attempt: 1,
          generation: 1,
          executionId: executionIdFor(runId, 0, 1),
          worker: 'test-worker',
          startedAt: new Date().toISOString(),
        }),
        node('evaluate', 1, {}),
      ];
    case 'waiting-approval':
      return [node('train', 0, {}), node('evaluate', 1, {})];
    case 'error':
    case 'stopped':
    case 'cancelled':
      return [
        node('train', 0, {
          status: status === 'error' ? 'error' : 'stopped',
          message: status === 'error' ? 'exited with code 1' : 'stopped',
          ...ended,
        }),
        node('evaluate', 1, {
          status: 'skipped',
          message: 'upstream node "train" did not complete',
          endedAt: ended.endedAt,
        }),
      ];
  }
}

function namesIn(nodes: readonly RunNodeState[], status: string): string[] {
  return nodes
    .filter((item) => item.status === status)
    .map((item) => item.name);
}

/** The execution of a run's node (as `seedRun` or a worker made it). */
export function executionIdOf(run: RunRecord, node: string): string {
  const id = run.nodes.find((item) => item.name === node)?.executionId;
  if (!id) throw new Error(`node ${node} of run ${run.id} has no execution`);
  return id;
}

/** Adds a commit to the fixture repo; returns its SHA. */
export function commitTo(
  repoDir: string,
  files: Record<string, string>,
): string {
  writeFiles(repoDir, files);
  return commitAll(repoDir, 'change');
}
