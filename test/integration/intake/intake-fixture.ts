/**
 * A real kiln intake for tests: a private redis-server, the express app
 * from `createApp` on a loopback port, a BullMQ intake worker, a plain step
 * queue with no worker, and a bare git repository (the "GitHub" remote,
 * fetched by local path) fed from a work tree.
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sign } from '@octokit/webhooks-methods';
import examples from '@octokit/webhooks-examples' with { type: 'json' };
import { Redis } from 'ioredis';
import { pino } from 'pino';
import {
  GitMaterialiser,
  type GitMaterialiserOptions,
} from '../../../src/git/git-materialiser.js';
import {
  createDeliveryLog,
  type DeliveryLog,
  type DeliveryRecord,
} from '../../../src/intake/delivery-log.js';
import {
  startIntakeWorker,
  type IntakeWorker,
} from '../../../src/intake/start-intake-worker.js';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import { createStepQueue } from '../../../src/queue/step-jobs.js';
import type { RedisKeys } from '../../../src/redis/redis-keys.js';
import { createApp } from '../../../src/engine/create-app.js';
import type { ServerDeps } from '../../../src/http/server-deps.js';
import { readSettings } from '../../../src/settings.js';
import { createStores } from '../../../src/store/create-stores.js';
import {
  createEventTimes,
  type EventTimes,
} from '../../../src/store/event-times.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import {
  createTestRepo,
  git,
  makeTempDir,
  removeTempDir,
  type TestRepo,
} from '../git/git-fixture.js';

export const SECRET = 'test-secret-current';
export const PREVIOUS_SECRET = 'test-secret-previous';
export const REPOSITORY = 'acme/models';

export const KILN_YAML = `- step:
    name: train
    image: busybox
    command: echo train
- trigger:
    name: on-push
    on: [push, pull_request]
    branches: [main, 'release/*']
    run: train
`;

export interface FixtureOptions {
  env?: Record<string, string>;
  /** Start the intake worker. @defaultValue true */
  worker?: boolean;
  /** Overrides of the materialiser's options (fetch limits). */
  git?: Partial<GitMaterialiserOptions>;
  /** The intake worker's slots. @defaultValue the worker's default */
  intakeConcurrency?: number;
}

export interface PostOptions {
  event: string;
  delivery?: string;
  /** Sent as JSON text unless `body` is given. */
  payload?: unknown;
  body?: Buffer | string;
  secret?: string;
  headers?: Record<string, string | undefined>;
}

export interface IntakeFixture {
  redis: TestRedis;
  url: string;
  /** The server's Redis client (fails fast while Redis is down). */
  client: Redis;
  keys: RedisKeys;
  control: ControlDeps;
  eventTimes: EventTimes;
  deliveries: DeliveryLog;
  repo: TestRepo;
  bareDir: string;
  /** Commits the files on `branch` of the work tree and pushes to the bare repo. */
  push(branch: string, files: Record<string, string>, message?: string): string;
  post(options: PostOptions): Promise<{ status: number; body: unknown }>;
  /** Waits until the worker has acted on the delivery. */
  waitForOutcome(delivery: string): Promise<DeliveryRecord>;
  stopWorker(): Promise<void>;
  startWorker(): void;
  close(): Promise<void>;
}

export async function startIntakeFixture(
  options: FixtureOptions = {},
): Promise<IntakeFixture> {
  const redis = await startTestRedis();
  const temp = makeTempDir('intake');
  const settings = readSettings({
    KILN_DATA_DIR: join(temp, 'data'),
    REDIS_URL: redis.url,
    KILN_REDIS_PREFIX: 'kt',
    KILN_WEBHOOK_SECRET: SECRET,
    KILN_WEBHOOK_SECRET_PREVIOUS: PREVIOUS_SECRET,
    KILN_ALLOW_LOCAL_REPOSITORIES: 'true',
    KILN_LOG_LEVEL: 'silent',
    ...options.env,
  });
  const logger = pino({ level: 'silent' });
  // Like the server's producer client: no offline queue, fail fast.
  const producer = new Redis(redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 100,
  });
  producer.on('error', () => undefined);
  await new Promise((resolve) => producer.once('ready', resolve));
  const bull = new Redis(redis.url, { maxRetriesPerRequest: null });
  bull.on('error', () => undefined);
  const stores = createStores(producer, { prefix: settings.redisPrefix });
  const { keys } = stores;
  const steps = createStepQueue(bull, keys.bullPrefix);
  const control: ControlDeps = {
    executions: stores.executions,
    runs: stores.runs,
    configs: stores.configs,
    steps,
    logger,
  };
  const eventTimes = createEventTimes(producer, keys);
  const deliveries = createDeliveryLog(producer, { keys });
  const deps: ServerDeps = {
    settings,
    logger,
    redis: producer,
    keys,
    control,
  };
  const server: Server = createServer(createApp(deps));
  // Sync git calls in tests block the loop; a server closing idle sockets
  // meanwhile would make the client reuse a dead one (ECONNRESET).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const repo = createTestRepo(join(temp, 'work'));
  const bareDir = join(temp, 'origin.git');
  git(temp, ['init', '-q', '--bare', bareDir]);
  const materialiser = new GitMaterialiser({
    cacheDir: join(temp, 'git-cache'),
    fetchAttempts: 1,
    fetchRetryDelayMs: 10,
    ...options.git,
  });
  let worker: IntakeWorker | undefined;
  const startWorker = (): void => {
    worker = startIntakeWorker({
      control,
      eventTimes,
      git: materialiser,
      deliveries,
      allowLocalRepositories: settings.allowLocalRepositories,
      connection: bull,
      bullPrefix: keys.bullPrefix,
      logger,
      concurrency: options.intakeConcurrency,
    });
  };
  if (options.worker !== false) startWorker();

  return {
    redis,
    url: `http://127.0.0.1:${port}`,
    client: producer,
    keys,
    control,
    eventTimes,
    deliveries,
    repo,
    bareDir,
    push(branch, files, message = 'change') {
      const current = git(repo.dir, ['symbolic-ref', '--short', 'HEAD']);
      if (current !== branch) {
        const exists = git(repo.dir, ['branch', '--list', branch]) !== '';
        git(
          repo.dir,
          exists
            ? ['checkout', '-q', branch]
            : ['checkout', '-q', '-b', branch],
        );
      }
      const sha = repo.commit(message, files);
      git(repo.dir, ['push', '-q', '-f', bareDir, `HEAD:refs/heads/${branch}`]);
      return sha;
    },
    async post(post) {
      const body =
        post.body ?? Buffer.from(JSON.stringify(post.payload ?? {}), 'utf8');
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-github-event': post.event,
        'x-hub-signature-256': signBytes(post.secret ?? SECRET, bytes),
      };
      if (post.delivery !== undefined) {
        headers['x-github-delivery'] = post.delivery;
      }
      for (const [name, value] of Object.entries(post.headers ?? {})) {
        if (value === undefined) delete headers[name];
        else headers[name] = value;
      }
      const response = await fetch(`http://127.0.0.1:${port}/webhooks/github`, {
        method: 'POST',
        headers,
        body: bytes,
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text
      }
      return { status: response.status, body: parsed };
    },
    async waitForOutcome(delivery) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const record = await deliveries.getDelivery(delivery);
        if (
          record &&
          record.status !== 'queued' &&
          record.status !== 'received'
        ) {
          return record;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `delivery ${delivery} not processed: ${JSON.stringify(record)}`,
          );
        }
        await sleep(50);
      }
    },
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    startWorker,
    async close() {
      await worker?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await steps.close();
      producer.disconnect();
      bull.disconnect();
      await redis.close();
      removeTempDir(temp);
    },
  };
}

export function signBytes(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export { sign };

type Example = Record<string, unknown>;

function example(name: string, pick: (item: Example) => boolean): Example {
  const definition = (
    examples as unknown as Array<{ name: string; examples: Example[] }>
  ).find((item) => item.name === name);
  const found = definition?.examples.find(pick);
  if (!found) throw new Error(`no ${name} example`);
  return structuredClone(found);
}

export interface PushPayloadOptions {
  bareDir: string;
  branch: string;
  before?: string;
  after: string;
  /** Epoch seconds of the push. */
  pushedAt?: number;
  repository?: string;
}

/** A real `push` example with the repository and SHAs rewritten. */
export function pushPayload(options: PushPayloadOptions): Example {
  const payload = example(
    'push',
    (item) => item.ref === 'refs/heads/master' && item.deleted === false,
  );
  const repository = payload.repository as Example;
  repository.full_name = options.repository ?? REPOSITORY;
  repository.clone_url = options.bareDir;
  repository.pushed_at = options.pushedAt ?? Math.floor(Date.now() / 1000);
  payload.ref = `refs/heads/${options.branch}`;
  payload.before = options.before ?? '0'.repeat(40);
  payload.after = options.after;
  payload.created = options.before === undefined;
  const head = payload.head_commit as Example;
  head.id = options.after;
  return payload;
}

export interface PullRequestPayloadOptions {
  bareDir: string;
  action: string;
  number: number;
  headSha: string;
  baseSha: string;
  /** `owner/name` of the head repository; a fork when not REPOSITORY. */
  headRepository?: string;
  author?: string;
  updatedAt?: string;
}

export function pullRequestPayload(
  options: PullRequestPayloadOptions,
): Example {
  const payload = example('pull_request', (item) => item.action === 'opened');
  payload.action = options.action;
  payload.number = options.number;
  const pr = payload.pull_request as Example;
  const head = pr.head as Example;
  const base = pr.base as Example;
  const headRepo = head.repo as Example;
  const baseRepo = base.repo as Example;
  const repository = payload.repository as Example;
  pr.number = options.number;
  pr.updated_at = options.updatedAt ?? new Date().toISOString();
  head.sha = options.headSha;
  base.sha = options.baseSha;
  base.ref = 'main';
  baseRepo.full_name = REPOSITORY;
  baseRepo.clone_url = options.bareDir;
  repository.full_name = REPOSITORY;
  repository.clone_url = options.bareDir;
  headRepo.full_name = options.headRepository ?? REPOSITORY;
  headRepo.clone_url = options.bareDir;
  if (options.headRepository && options.headRepository !== REPOSITORY) {
    headRepo.id = 999_999;
  } else {
    headRepo.id = baseRepo.id;
  }
  if (options.author) {
    (pr.user as Example).login = options.author;
    (payload.sender as Example).login = options.author;
  }
  return payload;
}

/** Puts a commit in the bare repo under the PR ref (as GitHub does for forks). */
export function pushPullRequestHead(
  fixture: IntakeFixture,
  options: { number: number; sha: string },
): void {
  execFileSync('git', [
    '-C',
    fixture.repo.dir,
    'push',
    '-q',
    '-f',
    fixture.bareDir,
    `${options.sha}:refs/pull/${options.number}/head`,
  ]);
}

export interface CheckPayloadOptions {
  bareDir: string;
  sha: string;
  /** The check run's `external_id` (kiln's run id). */
  externalId?: string;
  name?: string;
  installationId?: number;
}

/** A real `check_run` `rerequested` example, rewritten for the repository. */
export function checkRunRerequestedPayload(
  options: CheckPayloadOptions,
): Example {
  const payload = example('check_run', (item) => item.action === 'rerequested');
  const check = payload.check_run as Example;
  check.head_sha = options.sha;
  check.external_id = options.externalId ?? '';
  check.name = options.name ?? check.name;
  rewriteRepository(payload, options);
  return payload;
}

/** A real `check_suite` `rerequested` example, rewritten for the repository. */
export function checkSuiteRerequestedPayload(
  options: CheckPayloadOptions,
): Example {
  const payload = example(
    'check_suite',
    (item) => item.action === 'rerequested',
  );
  (payload.check_suite as Example).head_sha = options.sha;
  rewriteRepository(payload, options);
  return payload;
}

function rewriteRepository(payload: Example, options: CheckPayloadOptions) {
  const repository = payload.repository as Example;
  repository.full_name = REPOSITORY;
  repository.clone_url = options.bareDir;
  if (options.installationId !== undefined)
    payload.installation = { id: options.installationId };
}
