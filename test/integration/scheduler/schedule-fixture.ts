/**
 * Schedules in one process on real parts: a private redis-server, BullMQ's
 * job schedulers, the run store, and a real bare git repository (the
 * "GitHub" remote, fetched by local path) fed from a work tree.
 */
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import type { ScheduleDeps } from '../../../src/control/schedule-deps.js';
import type {
  PushFacts,
  PushedConfig,
} from '../../../src/control/sync-schedules.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import {
  createScheduleQueue,
  SCHEDULE_QUEUE,
} from '../../../src/queue/schedule-queue.js';
import { createStepQueue } from '../../../src/queue/step-jobs.js';
import type { RedisKeys } from '../../../src/redis/redis-keys.js';
import { createStores } from '../../../src/store/create-stores.js';
import { createScheduleStore } from '../../../src/store/schedule-store.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import {
  createTestRepo,
  git,
  makeTempDir,
  removeTempDir,
  type TestRepo,
} from '../git/git-fixture.js';

export const REPOSITORY = 'acme/models';

export interface ScheduleFixture {
  redis: TestRedis;
  client: Redis;
  keys: RedisKeys;
  deps: ScheduleDeps;
  /** A plain BullMQ queue object on the schedule queue, to look inside. */
  bullQueue: Queue;
  repo: TestRepo;
  bareDir: string;
  source: { id: string; url: string };
  /** Commits the files on `branch` and pushes it; the new head. */
  push(branch: string, files: Record<string, string>): string;
  /** Deletes `branch` on the bare repository. */
  deleteBranch(branch: string): void;
  /** What intake hands over for a push of `branch` at `commit`. */
  pushed(
    branch: string,
    commit: string,
    options?: { pushedAt?: number; file?: string | null },
  ): [PushFacts, PushedConfig];
  close(): Promise<void>;
}

export async function startScheduleFixture(): Promise<ScheduleFixture> {
  const redis = await startTestRedis();
  const temp = makeTempDir('schedules');
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const bull = new Redis(redis.url, { maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  bull.on('error', () => undefined);
  const stores = createStores(client, { prefix: 'ks' });
  const { keys } = stores;
  const control: ControlDeps = {
    runs: stores.runs,
    executions: stores.executions,
    configs: stores.configs,
    steps: createStepQueue(bull, keys.bullPrefix),
    logger: pino({ level: 'silent' }),
  };
  const queue = createScheduleQueue({
    connection: bull,
    bullPrefix: keys.bullPrefix,
  });
  const deps: ScheduleDeps = {
    control,
    schedules: createScheduleStore(client, keys),
    queue,
    git: new GitMaterialiser({
      cacheDir: join(temp, 'git-cache'),
      fetchAttempts: 1,
      fetchRetryDelayMs: 10,
    }),
  };
  const bullQueue = new Queue(SCHEDULE_QUEUE, {
    connection: bull,
    prefix: keys.bullPrefix,
  });
  const repo = createTestRepo(join(temp, 'work'));
  const bareDir = join(temp, 'origin.git');
  git(temp, ['init', '-q', '--bare', bareDir]);
  const source = { id: `github.com/${REPOSITORY}`, url: bareDir };

  function checkout(branch: string): void {
    const current = git(repo.dir, ['symbolic-ref', '--short', 'HEAD']);
    if (current === branch) return;
    const exists = git(repo.dir, ['branch', '--list', branch]) !== '';
    git(
      repo.dir,
      exists ? ['checkout', '-q', branch] : ['checkout', '-q', '-b', branch],
    );
  }

  return {
    redis,
    client,
    keys,
    deps,
    bullQueue,
    repo,
    bareDir,
    source,
    push(branch, files) {
      checkout(branch);
      const sha = repo.commit(`change ${branch}`, files);
      git(repo.dir, ['push', '-q', '-f', bareDir, `HEAD:refs/heads/${branch}`]);
      return sha;
    },
    deleteBranch(branch) {
      git(bareDir, ['update-ref', '-d', `refs/heads/${branch}`]);
    },
    pushed(branch, commit, options = {}) {
      const file = options.file === undefined ? 'kiln.yaml' : options.file;
      const text =
        file === null ? null : git(repo.dir, ['show', `${commit}:${file}`]);
      return [
        {
          repository: { fullName: REPOSITORY, defaultBranch: 'main' },
          refType: 'branch',
          refName: branch,
          pushedAt: options.pushedAt ?? Date.now(),
        },
        {
          source,
          commit,
          config: file === null || text === null ? null : { file, text },
        },
      ];
    },
    async close() {
      await bullQueue.close();
      await queue.close();
      await control.steps.close();
      client.disconnect();
      bull.disconnect();
      await redis.close();
      removeTempDir(temp);
    },
  };
}
