/**
 * Redis that refuses writes (reliability plan F7 and F8, invariants I1,
 * I7): full under `maxmemory` with `noeviction` (`OOM`), or unable to write
 * its AOF because its disk is full (`MISCONF`). Through a real `kiln up`
 * on a real redis-server: a webhook gets 503, never 202, while Redis
 * refuses (so GitHub keeps it as failed and it can be redelivered), an API
 * launch gets a 503 naming the cause, kiln logs it and stays up; once
 * Redis has room again, the redelivery of the same delivery is accepted and
 * its run completes — one run, nothing acked that wasn't stored. A step
 * that runs meanwhile finishes: its log lines and its end wait for Redis
 * (as through an outage) instead of failing the attempt.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/model/run.js';
import { createTokenStore } from '../../../src/http/auth/token-store.js';
import { createStores, type Stores } from '../../../src/store/index.js';
import {
  freePort,
  startTestRedis,
  type TestRedis,
} from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import {
  haveSmallFilesystems,
  mountSmallFilesystem,
  type SmallFilesystem,
} from '../../helpers/small-filesystem.js';
import {
  createTestRepo,
  git,
  makeTempDir,
  removeTempDir,
  type TestRepo,
} from '../git/git-fixture.js';
import {
  REPOSITORY,
  pushPayload,
  signBytes,
} from '../intake/intake-fixture.js';
import { waitFor } from './service-fixture.js';

const KILN_BIN = resolve(import.meta.dirname, '../../../bin/kiln.js');
const SECRET = 'redis-refuses-secret';
const KILN_YAML = `- step:
    name: train
    image: busybox
    command: echo trained
- trigger:
    name: on-push
    on: [push]
    branches: [main]
    run: train
`;
const FILLER_BYTES = 64 * 1024;

interface Fault {
  /** Makes Redis refuse writes; resolves with the error a write gets. */
  fill(client: Redis): Promise<string>;
  /** Gives Redis room again. */
  unfill(client: Redis): Promise<void>;
  /** Redis's own error reply to a write. */
  reply: RegExp;
  /** The reason kiln gives, as in src/redis/redis-refusal.ts. */
  reason: RegExp;
}

/** Writes filler keys until Redis refuses one; returns its error. */
async function writeUntilRefused(client: Redis): Promise<string> {
  const filler = 'x'.repeat(FILLER_BYTES);
  for (let index = 0; index < 100_000; index += 1) {
    try {
      await client.set(`filler:${index}`, filler);
    } catch (error) {
      return (error as Error).message;
    }
  }
  throw new Error('Redis never refused a write');
}

async function deleteFillers(client: Redis): Promise<void> {
  const keys = await client.keys('filler:*');
  for (let index = 0; index < keys.length; index += 500)
    await client.del(...keys.slice(index, index + 500));
}

function scenario(
  title: string,
  options: {
    skip: boolean;
    startRedis: () => Promise<{ redis: TestRedis; fault: Fault }>;
    cleanUp?: () => void;
  },
) {
  describe.skipIf(options.skip)(title, () => {
    let redis: TestRedis;
    let fault: Fault;
    let client: Redis;
    let stores: Stores;
    let temp: string;
    let repo: TestRepo;
    let bareDir: string;
    let kiln: ChildProcess;
    let output = '';
    let kilnUrl: string;

    beforeAll(async () => {
      ({ redis, fault } = await options.startRedis());
      client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      stores = createStores(client);
      temp = makeTempDir('redis-refuses');
      repo = createTestRepo(join(temp, 'work'));
      bareDir = join(temp, 'origin.git');
      git(temp, ['init', '-q', '--bare', bareDir]);
      const port = await freePort();
      kilnUrl = `http://127.0.0.1:${port}`;
      kiln = spawn(process.execPath, [KILN_BIN, 'up'], {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          REDIS_URL: redis.url,
          KILN_DATA_DIR: join(temp, 'data'),
          KILN_HOST: '127.0.0.1',
          KILN_PORT: String(port),
          KILN_RUNTIME: 'local',
          KILN_WEBHOOK_SECRET: SECRET,
          KILN_ALLOW_LOCAL_REPOSITORIES: 'true',
          KILN_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      kiln.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      kiln.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor('kiln up to listen', 90_000, () => {
        if (kiln.exitCode !== null) throw new Error(`kiln exited:\n${output}`);
        return output.includes('kiln is listening');
      });
    }, 150_000);

    afterAll(async () => {
      if (kiln && kiln.exitCode === null && kiln.signalCode === null) {
        const exited = new Promise((done) => kiln.once('exit', done));
        kiln.kill('SIGKILL');
        await exited;
      }
      client?.disconnect();
      await redis?.close();
      options.cleanUp?.();
      if (temp) removeTempDir(temp);
    }, 60_000);

    function pushCommit(message: string): string {
      const sha = repo.commit(message, { 'kiln.yaml': KILN_YAML });
      git(repo.dir, ['push', '-q', '-f', bareDir, 'HEAD:refs/heads/main']);
      return sha;
    }

    async function deliver(delivery: string, sha: string) {
      const payload = pushPayload({ bareDir, branch: 'main', after: sha });
      (payload.repository as Record<string, unknown>).default_branch = 'main';
      const body = Buffer.from(JSON.stringify(payload));
      const response = await fetch(`${kilnUrl}/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': delivery,
          'x-hub-signature-256': signBytes(SECRET, body),
        },
        body,
      });
      return {
        status: response.status,
        body: (await response.json()) as { error?: string },
      };
    }

    async function runsOf(sha: string): Promise<RunRecord[]> {
      const runs = await stores.runs.listRuns({
        repository: REPOSITORY,
        limit: 100,
      });
      return runs.filter((run) => run.commit === sha);
    }

    async function waitForComplete(sha: string): Promise<RunRecord> {
      let found: RunRecord | undefined;
      await waitFor(`the run of ${sha.slice(0, 8)}`, 120_000, async () => {
        [found] = await runsOf(sha);
        return found?.status === 'complete';
      }).catch((error: unknown) => {
        throw new Error(
          `${String(error)}: ${JSON.stringify(found)}\n${output.slice(-4000)}`,
        );
      });
      return found as RunRecord;
    }

    it('answers 503 to webhooks and launches while Redis refuses writes, and runs the redelivery once it has room', async () => {
      // Working before: a push runs (and makes the repository known).
      const first = pushCommit('first');
      expect((await deliver(randomUUID(), first)).status).toBe(202);
      await waitForComplete(first);
      const { token } = await createTokenStore(client, {
        keys: stores.keys,
      }).createToken({ name: 'ci', role: 'admin' });

      const refused = await fault.fill(client);
      expect(refused).toMatch(fault.reply);

      const second = pushCommit('second');
      const delivery = randomUUID();
      const answer = await deliver(delivery, second);
      expect(answer.status).toBe(503);
      expect(answer.body.error).toMatch(fault.reason);
      expect(answer.body.error).toMatch(/redeliver it from GitHub/);

      const launch = await fetch(`${kilnUrl}/api/runs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          repository: REPOSITORY,
          ref: 'main',
          name: 'train',
          parameters: {},
        }),
      });
      expect(launch.status).toBe(503);
      expect(((await launch.json()) as { error: string }).error).toMatch(
        fault.reason,
      );
      // Logged, naming the cause (the log reaches this process a little
      // after the answer).
      await waitFor('both refusals logged', 10_000, () =>
        [
          /"webhook delivery not stored: Redis/,
          /"API request not stored: Redis/,
        ].every((line) => line.test(output)),
      );
      // Still up: a refused write is not a crash.
      expect(kiln.exitCode).toBeNull();

      await fault.unfill(client);
      await waitFor('Redis to take writes again', 60_000, async () => {
        try {
          await client.set('probe', '1');
          return true;
        } catch {
          return false;
        }
      });
      // GitHub's redelivery: the same delivery id and body.
      const again = await deliver(delivery, second);
      expect(again.status).toBe(202);
      const run = await waitForComplete(second);
      expect(run.trigger).toBeDefined();
      // Exactly one run per delivery (I1): none from the refused attempt
      // or the refused launch.
      expect(await runsOf(second)).toHaveLength(1);
      expect(kiln.exitCode).toBeNull();
    }, 300_000);

    it('lets a step that runs while Redis refuses writes complete once, log and end kept, when Redis has room again', async () => {
      const go = join(temp, 'go');
      const done = join(temp, 'done');
      const sha = repo.commit('waiting step', {
        'kiln.yaml': KILN_YAML.replace(
          'command: echo trained',
          `command:
      - echo begin
      - while [ ! -f ${go} ]; do sleep 0.2; done
      - 'echo ''{"done": 1}'''
      - echo end
      - touch ${done}`,
        ),
      });
      git(repo.dir, ['push', '-q', '-f', bareDir, 'HEAD:refs/heads/main']);
      expect((await deliver(randomUUID(), sha)).status).toBe(202);
      await waitFor('the step to start', 60_000, async () => {
        const [run] = await runsOf(sha);
        return run?.nodes[0]?.status === 'started';
      }).catch(async (error: unknown) => {
        throw new Error(
          `${String(error)}: ${JSON.stringify(await runsOf(sha))}\n${output.slice(-4000)}`,
        );
      });

      await fault.fill(client);
      writeFileSync(go, '');
      await waitFor('the step to finish', 60_000, () => existsSync(done));
      // The fault goes on a while after the step's end: its last lines and
      // its end wait for Redis.
      await sleep(3_000);
      await fault.unfill(client);

      const run = await waitForComplete(sha);
      expect(run.nodes[0]?.attempt).toBe(1);
      const executions = await stores.executions.listExecutions({
        runId: run.id,
        limit: 10,
      });
      expect(executions.map((item) => [item.attempt, item.status])).toEqual([
        [1, 'complete'],
      ]);
      expect(executions[0]?.metrics).toMatchObject({ done: 1 });
      const log = (
        await stores.executions.readLog(executions[0]?.id ?? '', {
          limit: 100,
        })
      ).map((line) => line.text);
      expect(log).toEqual(expect.arrayContaining(['begin', 'end']));
      expect(kiln.exitCode).toBeNull();
    }, 300_000);
  });
}

scenario('Redis full (maxmemory, noeviction): F7', {
  skip: !haveRedis(),
  async startRedis() {
    const redis = await startTestRedis();
    return {
      redis,
      fault: {
        reply: /^OOM command not allowed/,
        reason: /Redis is full: it reached maxmemory/,
        async fill(client) {
          const info = await client.info('memory');
          const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
          await client.config(
            'SET',
            'maxmemory',
            String(used + 4 * 1024 * 1024),
          );
          const reply = await writeUntilRefused(client);
          // Full stays full: the refused value's buffer is freed again, and
          // kiln frees memory as it goes (finished jobs, trimmed streams), so
          // writes would fit under a limit just below the use. Half of it
          // keeps every write refused until `unfill`.
          const now = await client.info('memory');
          const full = Number(/used_memory:(\d+)/.exec(now)?.[1]);
          await client.config('SET', 'maxmemory', String(Math.floor(full / 2)));
          return reply;
        },
        async unfill(client) {
          await deleteFillers(client);
          await client.config('SET', 'maxmemory', '0');
        },
      },
    };
  },
});

let disk: SmallFilesystem | undefined;
scenario('Redis disk full (AOF writes fail): F8', {
  skip: !haveRedis() || !haveSmallFilesystems(),
  async startRedis() {
    disk = mountSmallFilesystem({ megabytes: 24 });
    const redis = await startTestRedis({ dir: disk.path });
    const filler = join(disk.path, 'filler');
    return {
      redis,
      fault: {
        reply: /^MISCONF Errors writing to the AOF file/,
        reason: /Redis can't write to its disk/,
        async fill(client) {
          try {
            execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], {
              stdio: 'ignore',
            });
          } catch {
            // dd stops with ENOSPC: the disk is full.
          }
          return writeUntilRefused(client);
        },
        async unfill() {
          rmSync(filler, { force: true });
        },
      },
    };
  },
  cleanUp: () => disk?.close(),
});
