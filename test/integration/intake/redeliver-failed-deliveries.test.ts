/**
 * Reliability plan §8.3 row F26, "webhook process down": GitHub's
 * deliveries to a stopped kiln fail and GitHub never sends them again by
 * itself; the next `kiln server` to start asks GitHub to redeliver them
 * (the App's webhook deliveries: `GET /app/hook/deliveries`,
 * `POST …/attempts`), and each event becomes exactly one run (I1).
 *
 * Real parts: a real `kiln server` process (twice), a real redis-server, a
 * real git repository; GitHub is the stand-in, which delivers the webhooks
 * itself and keeps GitHub's delivery log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeliveryLog,
  type DeliveryLog,
  type DeliveryRecord,
} from '../../../src/intake/delivery-log.js';
import { createStores, type Stores } from '../../../src/store/index.js';
import {
  startGithubStandIn,
  type GithubStandIn,
  type HookAttempt,
} from '../../helpers/github-stand-in.js';
import {
  freePort,
  startTestRedis,
  type TestRedis,
} from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import {
  createTestRepo,
  git,
  makeTempDir,
  removeTempDir,
} from '../git/git-fixture.js';
import { pushPayload } from './intake-fixture.js';

const KILN_BIN = resolve(import.meta.dirname, '../../../bin/kiln.js');
const SECRET = 'redeliver-secret';
const PREFIX = 'kr';
const REPOSITORY = 'acme/models';
const METRICS_TOKEN = 'metrics-token-0123456789';
const KILN_YAML = `- step:
    name: train
    image: busybox
    command: echo train
- trigger:
    name: on-push
    on: [push]
    branches: ['b*']
    run: train
`;

interface Kiln {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  describeState: () => string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${describeState()}`);
    await sleep(50);
  }
}

/** The summary lines of redelivery passes in a kiln's output. */
function passSummaries(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.includes('"webhook redelivery pass"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe.skipIf(!haveRedis())(
  'F26: deliveries GitHub could not make while kiln was down',
  () => {
    let redis: TestRedis;
    let client: Redis;
    let stores: Stores;
    let deliveries: DeliveryLog;
    let stand: GithubStandIn;
    let root: string;
    let bareDir: string;
    let port: number;
    let privateKeyPem: string;
    const kilns: Kiln[] = [];
    /** Pushed commits by branch. */
    const commits = new Map<string, string>();

    beforeAll(async () => {
      redis = await startTestRedis();
      client = new Redis(redis.url);
      stores = createStores(client, { prefix: PREFIX });
      deliveries = createDeliveryLog(client, { keys: stores.keys });
      root = makeTempDir('kiln-redeliver');
      const repo = createTestRepo(join(root, 'work'));
      bareDir = join(root, 'origin.git');
      git(root, ['init', '-q', '--bare', bareDir]);
      for (const branch of ['b1', 'b2', 'b3', 'b4']) {
        const sha = repo.commit(`change on ${branch}`, {
          'kiln.yaml': KILN_YAML,
          'branch.txt': branch,
        });
        git(repo.dir, ['push', '-q', bareDir, `${sha}:refs/heads/${branch}`]);
        commits.set(branch, sha);
      }
      const { privateKey, publicKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
      });
      privateKeyPem = privateKey
        .export({ type: 'pkcs8', format: 'pem' })
        .toString();
      port = await freePort();
      stand = await startGithubStandIn({
        app: { id: '4242', publicKey },
        installations: { [REPOSITORY]: 77 },
        webhook: {
          url: `http://127.0.0.1:${port}/webhooks/github`,
          secret: SECRET,
        },
      });
    });
    afterAll(async () => {
      for (const kiln of kilns) {
        if (kiln.child.exitCode === null && kiln.child.signalCode === null)
          kiln.child.kill('SIGKILL');
        await kiln.exited;
      }
      client?.disconnect();
      await stand?.close();
      await redis?.close();
      if (root) removeTempDir(root);
    });

    async function startKiln(name: string, intervalMs: number): Promise<Kiln> {
      const child = spawn(process.execPath, [KILN_BIN, 'server'], {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          REDIS_URL: redis.url,
          KILN_REDIS_PREFIX: PREFIX,
          KILN_DATA_DIR: join(root, `data-${name}`),
          KILN_HOST: '127.0.0.1',
          KILN_PORT: String(port),
          KILN_WEBHOOK_SECRET: SECRET,
          KILN_ALLOW_LOCAL_REPOSITORIES: 'true',
          KILN_GITHUB_API_URL: stand.url,
          KILN_GITHUB_APP_ID: '4242',
          KILN_GITHUB_PRIVATE_KEY: privateKeyPem,
          KILN_METRICS_TOKEN: METRICS_TOKEN,
          KILN_REDELIVER_INTERVAL_MS: String(intervalMs),
          KILN_SHUTDOWN_GRACE_MS: '2000',
          KILN_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const kiln: Kiln = {
        child,
        output: () => output,
        exited: new Promise((done) => child.once('exit', (code) => done(code))),
      };
      kilns.push(kiln);
      // Listening, and its start pass done.
      await waitFor(
        `kiln ${name} to listen and make its first redelivery pass`,
        () => {
          if (child.exitCode !== null)
            throw new Error(`kiln exited:\n${output}`);
          return passSummaries(output).length > 0 ? true : undefined;
        },
        () => output.slice(-3000),
      );
      return kiln;
    }

    function push(branch: string) {
      return {
        ...pushPayload({
          bareDir,
          branch,
          after: commits.get(branch) ?? '',
          repository: REPOSITORY,
        }),
        installation: { id: 77 },
      };
    }

    async function outcome(guid: string, kiln: Kiln): Promise<DeliveryRecord> {
      return waitFor(
        `delivery ${guid} to become a run`,
        async () => {
          const record = await deliveries.getDelivery(guid);
          return record?.status === 'runs-created' ? record : undefined;
        },
        () => kiln.output().slice(-3000),
      );
    }

    function attemptRequests() {
      return stand.requests.filter(
        (request) =>
          request.route === '/app/hook/deliveries/{delivery_id}/attempts',
      );
    }

    it('redelivers the 3 deliveries that failed while kiln was down once it starts: 3 runs, one each; the one kiln had is not asked for; a later pass asks nothing', async () => {
      // A kiln that took a delivery GitHub counted as failed: it answered
      // after GitHub stopped waiting (GitHub waits 10 s; here, not at all).
      const first = await startKiln('first', 3_600_000);
      const late = await stand.deliver({
        event: 'push',
        payload: push('b4'),
        giveUpAfterMs: 0,
      });
      expect(late).toMatchObject({ status: 'timed out', status_code: 0 });
      const lateRecord = await outcome(late.guid, first);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      // kiln is down: three pushes fail to connect.
      const failed: HookAttempt[] = [];
      for (const branch of ['b1', 'b2', 'b3']) {
        failed.push(
          await stand.deliver({ event: 'push', payload: push(branch) }),
        );
      }
      for (const attempt of failed) {
        expect(attempt).toMatchObject({
          status: 'failed to connect to host',
          status_code: 0,
          redelivery: false,
        });
      }

      const startedAt = Date.now();
      const second = await startKiln('second', 2_000);
      const records = [];
      for (const attempt of failed)
        records.push(await outcome(attempt.guid, second));
      const recoveredMs = Date.now() - startedAt;

      // Asked for exactly the three failed ones, once each.
      const asked = attemptRequests().map((request) => request.path);
      expect(asked.sort()).toEqual(
        failed
          .map((attempt) => `/app/hook/deliveries/${attempt.id}/attempts`)
          .sort(),
      );
      await stand.deliveriesSettled();
      for (const attempt of failed) {
        const redelivered = stand.hookAttempts.filter(
          (item) => item.guid === attempt.guid && item.redelivery,
        );
        expect(redelivered).toHaveLength(1);
        expect(redelivered[0]).toMatchObject({
          status: 'OK',
          status_code: 202,
          body: attempt.body,
        });
      }

      // I1: every event is exactly one run, of its own commit.
      const runs = await stores.runs.listRuns({
        repository: REPOSITORY,
        limit: 50,
      });
      expect(runs).toHaveLength(4);
      expect(runs.map((run) => run.commit).sort()).toEqual(
        [...commits.values()].sort(),
      );
      for (const record of [...records, lateRecord]) {
        expect(record.runIds).toHaveLength(1);
        expect(record.duplicates).toBe(0);
      }

      // A pass that starts after the redeliveries asks for nothing: the
      // three have an OK attempt now, and kiln has the fourth.
      const mark = second.output().length;
      const later = await waitFor(
        'a redelivery pass after the redeliveries',
        () => passSummaries(second.output().slice(mark))[0],
        () => second.output().slice(-3000),
      );
      expect(later).toMatchObject({
        source: 'app',
        failed: 1,
        recorded: 1,
        asked: 0,
        deferred: 0,
      });
      expect(attemptRequests()).toHaveLength(3);

      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(await metrics.text()).toContain(
        'kiln_webhook_redeliveries_requested_total{source="app"} 3',
      );
      stand.assertNoInvalidRequests();
      console.log(
        `F26: 3 failed deliveries became runs ${recoveredMs} ms after kiln started`,
      );
    });
  },
);
