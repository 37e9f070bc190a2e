/**
 * A real kiln server for API and browser tests: a private redis-server,
 * the stores, step queues (no worker unless asked), git, an artifact store
 * in a temp dir, `createApp` on a loopback port, and one admin and one
 * viewer token. A local git repository holds the configuration launches
 * read; `seedRun` records a run whose source points at it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { FsArtifactStore } from '../../../src/artifacts/fs-artifact-store.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import type { ExecutionRecord } from '../../../src/model/execution.js';
import type { RunRecord } from '../../../src/model/run.js';
import type { OrchestratorDeps } from '../../../src/orchestrator/orchestrator-deps.js';
import { createStepQueues } from '../../../src/queue/step-jobs.js';
import { createTokenStore } from '../../../src/server/auth/token-store.js';
import { createApp } from '../../../src/server/create-app.js';
import type { ServerDeps } from '../../../src/server/server-deps.js';
import { readSettings } from '../../../src/settings.js';
import { createStores } from '../../../src/store/create-stores.js';
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
  orchestrator: OrchestratorDeps;
  adminToken: string;
  viewerToken: string;
  repoDir: string;
  head: string;
  artifactsDir: string;
  /** A run record (status `complete`) whose source is the local repo. */
  seedRun(overrides?: Partial<RunRecord>): Promise<RunRecord>;
  seedExecution(
    overrides: Partial<ExecutionRecord> & { id: string },
  ): Promise<ExecutionRecord>;
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
  const queues = createStepQueues(bull);
  const orchestrator: OrchestratorDeps = {
    redis: producer,
    prefix: settings.redisPrefix,
    executions: stores.executions,
    runs: stores.runs,
    queues,
    logger,
  };
  const artifactsDir = join(temp, 'artifacts');
  const deps: ServerDeps = {
    settings,
    logger,
    redis: producer,
    orchestrator,
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

  const tokens = createTokenStore(producer, { prefix: settings.redisPrefix });
  const adminToken = (await tokens.createToken({ name: 'ci', role: 'admin' }))
    .token;
  const viewerToken = (
    await tokens.createToken({ name: 'reader', role: 'viewer' })
  ).token;

  const repoDir = createRepo({ 'kiln.yaml': KILN_YAML }, 'kiln-web-repo-');
  const head = git(repoDir, 'rev-parse', 'HEAD');

  return {
    url,
    redis,
    deps,
    orchestrator,
    adminToken,
    viewerToken,
    repoDir,
    head,
    artifactsDir,
    async seedRun(overrides = {}) {
      seeded += 1;
      const record: RunRecord = {
        id: `rseed${seeded}${Date.now().toString(36)}`,
        counter: await stores.runs.allocateRunCounter(
          overrides.repository ?? REPOSITORY,
        ),
        repository: REPOSITORY,
        commit: head,
        ref: 'refs/heads/main',
        kind: 'pipeline',
        name: 'train-evaluate',
        status: 'complete',
        parameters: {},
        nodes: [
          { name: 'train', step: 'train', status: 'complete', attempt: 1 },
          {
            name: 'evaluate',
            step: 'evaluate',
            status: 'complete',
            attempt: 1,
          },
        ],
        trigger: { event: 'push', sender: 'octocat' },
        createdAt: new Date().toISOString(),
        source: { id: `github.com/${REPOSITORY}`, url: repoDir },
        ...overrides,
      };
      await stores.runs.createRun(record);
      return record;
    },
    async seedExecution(overrides) {
      const record: ExecutionRecord = {
        counter: await stores.executions.allocateCounter(REPOSITORY),
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
      return record;
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
      await queues.close();
      producer.disconnect();
      bull.disconnect();
      await redis.close();
      rmSync(temp, { recursive: true, force: true });
      rmSync(repoDir, { recursive: true, force: true });
    },
  };
}

/** Adds a commit to the fixture repo; returns its SHA. */
export function commitTo(
  repoDir: string,
  files: Record<string, string>,
): string {
  writeFiles(repoDir, files);
  return commitAll(repoDir, 'change');
}
