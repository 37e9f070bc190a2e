/**
 * Hosts whose clocks disagree by ±5 min (reliability plan F27, I2, I3):
 * two real `kiln worker` processes, one with its wall clock 5 min ahead and
 * one 5 min behind (`NODE_OPTIONS=--import
 * test/fixtures/process-faults/shift-clock.mjs`), share a Redis with the
 * test's control plane (right clock). Locks, beats and the takeover's
 * grace are Redis TTLs and Redis TIME, so:
 *  - a healthy attempt whose lock lapsed (Redis away longer than the lock)
 *    is not taken over by either worker: one execution, one container;
 *  - a lost one (its worker SIGKILLed) still is, within the usual bound
 *    (lock + stalled interval + three beats), not 5 min early or late;
 *  - a delivery taken by a `kiln server` 5 min ahead is a duplicate for
 *    one 5 min behind, and the once-only ledger keeps it for its whole TTL
 *    (Redis's `EX`): one run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_TTL_SECONDS } from '../../../src/intake/delivery-ledger.js';
import { createDeliveryLog } from '../../../src/intake/delivery-log.js';
import { freePort } from '../../helpers/redis-server.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import { createTestRepo, git } from '../git/git-fixture.js';
import {
  REPOSITORY,
  pushPayload,
  signBytes,
} from '../intake/intake-fixture.js';
import {
  LOCK_DURATION_MS,
  containersOf,
  startServiceFixture,
  waitFor,
  waitForRun,
  watchContainerCount,
  workerOfRunningContainer,
  type ServiceFixture,
  type WorkerProcess,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);
const KILN_BIN = resolve(import.meta.dirname, '../../../bin/kiln.js');
const SHIFT_MODULE = resolve(
  import.meta.dirname,
  '../../fixtures/process-faults/shift-clock.mjs',
);
const SKEW_MS = 5 * 60_000;
const SECRET = 'clock-skew-secret';

function configFor(seconds: number): string {
  return `- step:
    name: long
    image: ${BUSYBOX_IMAGE}
    command:
      - echo "begin"
      - sleep ${seconds}
      - 'echo ''{"slept": ${seconds}}'''
      - echo "end"
`;
}

describe.skipIf(!ok)('workers whose clocks are 5 min off', () => {
  let fixture: ServiceFixture;
  const workers: WorkerProcess[] = [];
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    fixture = await startServiceFixture();
    for (const [id, shift] of [
      ['skew-ahead', SKEW_MS],
      ['skew-behind', -SKEW_MS],
    ] as const) {
      workers.push(
        await fixture.spawnWorker({
          id,
          runtime: 'docker',
          concurrency: 2,
          env: {
            NODE_OPTIONS: `--import ${SHIFT_MODULE}`,
            KILN_TEST_CLOCK_SHIFT_MS: String(shift),
          },
        }),
      );
    }
  }, 180_000);
  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGKILL');
      await exited;
    }
    await fixture?.close();
  }, 60_000);

  async function waitForBegin(runId: string): Promise<void> {
    await waitFor('the first line stored', 120_000, async () => {
      const [node] = (await fixture.getRun(runId)).nodes;
      return (
        node?.executionId !== undefined &&
        (await fixture.logText(node.executionId)).includes('begin')
      );
    }).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await fixture.describe(runId)}`);
    });
  }

  it('the workers really run 5 min apart', async () => {
    const created = await fixture.startRun(configFor(1), 'long');
    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'complete',
    );
    // The worker wrote startedAt with its own clock.
    const [node] = run.nodes;
    const offset = Date.parse(node?.startedAt ?? '') - Date.now();
    expect(Math.abs(Math.abs(offset) - SKEW_MS)).toBeLessThan(60_000);
  }, 180_000);

  it('keeps a healthy attempt whose lock lapsed: no takeover, one execution', async () => {
    const created = await fixture.startRun(configFor(25), 'long');
    const watch = watchContainerCount(created.id);
    await waitForBegin(created.id);
    await fixture.redis.stop();
    // The fault: Redis away for three lock durations, so the job's lock
    // lapses and BullMQ hands the job out again when Redis is back.
    await sleep(3 * LOCK_DURATION_MS);
    await fixture.redis.restart();

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'complete' || item.status === 'error',
      180_000,
    );
    expect(await watch.stop()).toBeLessThanOrEqual(1);
    expect(run.status).toBe('complete');
    const [node] = run.nodes;
    expect(node?.attempt).toBe(1);
    const executions = await fixture.executionsOf(run);
    expect(executions.map((item) => [item.attempt, item.status])).toEqual([
      [1, 'complete'],
    ]);
    const log = await fixture.logText(executions[0]?.id ?? '');
    expect(log).toContain('begin');
    expect(log).toContain('end');
  }, 300_000);

  it('takes a lost attempt over in the usual time, whichever clock the survivor has', async () => {
    const created = await fixture.startRun(configFor(20), 'long');
    const watch = watchContainerCount(created.id);
    let holder: string | undefined;
    await waitFor('the step container to run', 120_000, () => {
      holder = workerOfRunningContainer(created.id);
      return holder !== undefined;
    });
    await waitForBegin(created.id);
    const victim = workers.find((worker) => worker.id === holder);
    expect(victim).toBeDefined();
    victim?.child.kill('SIGKILL');
    await victim?.exited;
    const killedAt = Date.now();

    await waitForRun(
      fixture,
      created.id,
      (item) => (item.nodes[0]?.attempt ?? 0) >= 2,
      120_000,
    );
    const takeoverMs = Date.now() - killedAt;
    // Lock 5 s + stalled check 2 s + three beats 7.5 s, with room for a
    // loaded machine — far from the 5 min a wall-clock judgement would
    // be off by.
    expect(takeoverMs).toBeLessThan(60_000);

    const run = await waitForRun(
      fixture,
      created.id,
      (item) => item.status === 'complete' || item.status === 'error',
      180_000,
    );
    expect(await watch.stop()).toBeLessThanOrEqual(1);
    expect(run.status).toBe('complete');
    const executions = await fixture.executionsOf(run);
    const lost = executions.find((item) => item.attempt === 1);
    expect(lost?.endReason).toEqual({
      kind: 'infra-error',
      message: `worker ${holder} was lost; attempt 2 takes over`,
    });
    expect(executions.find((item) => item.attempt === 2)?.status).toBe(
      'complete',
    );
    expect(containersOf(created.id)).toEqual([]);
  }, 300_000);

  it('keeps one run per delivery across servers 10 min apart', async () => {
    const servers: Array<{ port: number; output: () => string }> = [];
    for (const [name, shift] of [
      ['ahead', SKEW_MS],
      ['behind', -SKEW_MS],
    ] as const) {
      const port = await freePort();
      let output = '';
      const child = spawn(process.execPath, [KILN_BIN, 'server'], {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          REDIS_URL: fixture.redis.url,
          KILN_DATA_DIR: join(fixture.hostDir, `server-${name}`),
          KILN_HOST: '127.0.0.1',
          KILN_PORT: String(port),
          KILN_WEBHOOK_SECRET: SECRET,
          KILN_ALLOW_LOCAL_REPOSITORIES: 'true',
          KILN_LOG_LEVEL: 'info',
          NODE_OPTIONS: `--import ${SHIFT_MODULE}`,
          KILN_TEST_CLOCK_SHIFT_MS: String(shift),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      children.push(child);
      await waitFor(`kiln server ${name} to listen`, 90_000, () => {
        if (child.exitCode !== null)
          throw new Error(`server ${name} exited:\n${output}`);
        return output.includes('kiln is listening');
      });
      servers.push({ port, output: () => output });
    }
    const repo = createTestRepo(join(fixture.hostDir, 'work'));
    const bareDir = join(fixture.hostDir, 'origin.git');
    git(fixture.hostDir, ['init', '-q', '--bare', bareDir]);
    const sha = repo.commit('push', {
      'kiln.yaml': `${configFor(1)}- trigger:
    name: on-push
    on: [push]
    branches: [main]
    run: long
`,
    });
    git(repo.dir, ['push', '-q', '-f', bareDir, 'HEAD:refs/heads/main']);
    const payload = pushPayload({ bareDir, branch: 'main', after: sha });
    (payload.repository as Record<string, unknown>).default_branch = 'main';
    const body = Buffer.from(JSON.stringify(payload));
    const deliver = async (port: number, delivery: string) =>
      (
        await fetch(`http://127.0.0.1:${port}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            'x-github-delivery': delivery,
            'x-hub-signature-256': signBytes(SECRET, body),
          },
          body,
        })
      ).status;
    const [ahead, behind] = servers;
    const delivery = randomUUID();
    expect(await deliver(ahead?.port ?? 0, delivery)).toBe(202);
    expect(await deliver(behind?.port ?? 0, delivery)).toBe(200);
    // The ledger's TTL is counted by Redis, whoever wrote it.
    const ttl = await fixture.redisClient.ttl(fixture.keys.delivery(delivery));
    expect(ttl).toBeGreaterThan(LEDGER_TTL_SECONDS - 60);
    // The same push under another GUID (a second hook), to the other one.
    const second = randomUUID();
    expect(await deliver(behind?.port ?? 0, second)).toBe(202);

    const runsOfPush = async () =>
      (
        await fixture.deps.runs.listRuns({ repository: REPOSITORY, limit: 100 })
      ).filter((run) => run.commit === sha);
    await waitFor('the run of the push to complete', 120_000, async () => {
      const [run] = await runsOfPush();
      return run?.status === 'complete';
    }).catch((error: unknown) => {
      throw new Error(
        `${String(error)}\n${servers.map((server) => server.output().slice(-3000)).join('\n---\n')}`,
      );
    });
    // Both deliveries handled (the second one found the first's run).
    const log = createDeliveryLog(fixture.redisClient, { keys: fixture.keys });
    await waitFor('both deliveries handled', 60_000, async () => {
      const records = await Promise.all(
        [delivery, second].map((id) => log.getDelivery(id)),
      );
      return records.every(
        (record) => record !== null && record.status !== 'queued',
      );
    });
    expect(await runsOfPush()).toHaveLength(1);
  }, 300_000);
});
