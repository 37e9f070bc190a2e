/**
 * A schedule ticking on two real `kiln server` processes sharing one real
 * redis-server: one run per tick over several ticks, a server restarted in
 * between neither doubles nor drops a tick, and ticks missed while every
 * server was down follow each trigger's `missed` policy. The clock is a
 * cron expression with seconds (`*\/2 * * * * *`): the production path,
 * only faster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextTick } from '../../../src/config/cron-schedule.js';
import { scheduleIdFor } from '../../../src/control/schedule-id.js';
import type { ScheduleTick } from '../../../src/model/schedule.js';
import type { RunRecord } from '../../../src/model/run.js';
import { SCHEDULE_QUEUE } from '../../../src/queue/schedule-queue.js';
import { createRedisKeys } from '../../../src/redis/redis-keys.js';
import { createStores } from '../../../src/store/create-stores.js';
import {
  createScheduleStore,
  type ScheduleStore,
} from '../../../src/store/schedule-store.js';
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
  type TestRepo,
} from '../git/git-fixture.js';
import { pushPayload, signBytes } from '../intake/intake-fixture.js';
import { waitFor } from './service-fixture.js';

const KILN_BIN = resolve(import.meta.dirname, '../../../bin/kiln.js');
const REPOSITORY = 'acme/models';
const SECRET = 'schedule-test-secret';
const CRON = '*/2 * * * * *';
const PERIOD_MS = 2_000;

const KILN_YAML = `- step:
    name: train
    image: busybox
    command: echo train
- trigger:
    name: every-2s
    schedule:
      cron: '${CRON}'
    run: train
- trigger:
    name: every-2s-skip
    schedule:
      cron: '${CRON}'
      missed: skip
    run: train
`;

interface ServerProcess {
  name: string;
  port: number;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

describe.skipIf(!haveRedis())('schedules on two kiln servers', () => {
  let redis: TestRedis;
  let client: Redis;
  let temp: string;
  let repo: TestRepo;
  let bareDir: string;
  let schedules: ScheduleStore;
  let runsOf: (id: string) => Promise<RunRecord[]>;
  let bullQueue: Queue;
  const servers: ServerProcess[] = [];
  const ids = {
    once: scheduleIdFor({
      repository: REPOSITORY,
      branch: 'main',
      trigger: 'every-2s',
    }),
    skip: scheduleIdFor({
      repository: REPOSITORY,
      branch: 'main',
      trigger: 'every-2s-skip',
    }),
  };

  async function startServer(
    name: string,
    port?: number,
  ): Promise<ServerProcess> {
    const listenOn = port ?? (await freePort());
    const child = spawn(process.execPath, [KILN_BIN, 'server'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        REDIS_URL: redis.url,
        KILN_DATA_DIR: join(temp, `data-${name}`),
        KILN_PORT: String(listenOn),
        KILN_HOST: '127.0.0.1',
        KILN_WEBHOOK_SECRET: SECRET,
        KILN_ALLOW_LOCAL_REPOSITORIES: 'true',
        KILN_PUBLIC_READ: 'true',
        KILN_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const server: ServerProcess = {
      name,
      port: listenOn,
      child,
      output: () => output,
      exited: new Promise((done) => child.once('exit', (code) => done(code))),
    };
    servers.push(server);
    await waitFor(`kiln server ${name} to answer`, 90_000, async () => {
      if (child.exitCode !== null)
        throw new Error(`server ${name} exited:\n${output}`);
      const answer = await fetch(`http://127.0.0.1:${listenOn}/healthz`).catch(
        () => null,
      );
      return answer?.ok === true;
    });
    return server;
  }

  /** Pushes `text` as kiln.yaml to main and delivers the push to `server`. */
  async function pushAndDeliver(server: ServerProcess, text: string) {
    const sha = repo.commit('schedules', { 'kiln.yaml': text });
    git(repo.dir, ['push', '-q', '-f', bareDir, 'HEAD:refs/heads/main']);
    const payload = pushPayload({ bareDir, branch: 'main', after: sha });
    (payload.repository as Record<string, unknown>).default_branch = 'main';
    const body = Buffer.from(JSON.stringify(payload));
    const answer = await fetch(
      `http://127.0.0.1:${server.port}/webhooks/github`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': signBytes(SECRET, body),
        },
        body,
      },
    );
    expect(answer.status).toBe(202);
  }

  async function stopServer(server: ServerProcess): Promise<void> {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }

  async function ticksOf(id: string): Promise<ScheduleTick[]> {
    return (await schedules.listTicks(id, 200)).reverse();
  }

  /** Waits until `id` has `count` ticks (or more) that are done. */
  async function waitForTicks(
    id: string,
    count: number,
  ): Promise<ScheduleTick[]> {
    let ticks: ScheduleTick[] = [];
    await waitFor(`${count} ticks of ${id}`, 60_000, async () => {
      ticks = (await ticksOf(id)).filter((tick) => tick.outcome !== 'pending');
      return ticks.length >= count;
    }).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}: ${JSON.stringify(ticks)}\n${servers.map((server) => `--- ${server.name}\n${server.output().slice(-3000)}`).join('\n')}`,
      );
    });
    return ticks;
  }

  /** Ticks handled by each server process, from its log. */
  function handledBy(server: ServerProcess, id: string): string[] {
    return server
      .output()
      .split('\n')
      .filter((line) => line.includes('"schedule tick handled"'))
      .map((line) => JSON.parse(line) as { schedule: string; tick: string })
      .filter((entry) => entry.schedule === id)
      .map((entry) => entry.tick);
  }

  /**
   * Every cron tick from the first record's to the last is covered exactly
   * once: by its own record, or inside one record's `missed` range.
   */
  function expectEveryTickCoveredOnce(ticks: ScheduleTick[]): void {
    const timing = { cron: CRON, timezone: 'UTC' };
    const covered: number[] = [];
    for (const tick of ticks) {
      if (!tick.missed) {
        covered.push(Date.parse(tick.at));
        continue;
      }
      let cursor = Date.parse(tick.missed.first);
      for (let index = 0; index < tick.missed.count; index += 1) {
        covered.push(cursor);
        cursor = nextTick(timing, cursor) ?? Infinity;
      }
      expect(covered.at(-1)).toBe(Date.parse(tick.missed.last));
    }
    const expected: number[] = [];
    for (
      let cursor = covered[0] ?? 0;
      cursor <= (covered.at(-1) ?? 0);
      cursor = nextTick(timing, cursor) ?? Infinity
    ) {
      expected.push(cursor);
    }
    expect(covered).toEqual(expected);
  }

  beforeAll(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    temp = makeTempDir('schedule-servers');
    repo = createTestRepo(join(temp, 'work'));
    bareDir = join(temp, 'origin.git');
    git(temp, ['init', '-q', '--bare', bareDir]);
    const keys = createRedisKeys();
    schedules = createScheduleStore(client, keys);
    bullQueue = new Queue(SCHEDULE_QUEUE, {
      connection: client,
      prefix: keys.bullPrefix,
    });
    const { runs } = createStores(client);
    runsOf = async (id) =>
      (await runs.listRuns({ repository: REPOSITORY, limit: 1000 })).filter(
        (run) => run.trigger?.schedule === id,
      );
  }, 60_000);

  afterAll(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null && server.child.signalCode === null)
        server.child.kill('SIGKILL');
      await server.exited;
    }
    await bullQueue?.close();
    client?.disconnect();
    await redis?.close();
    if (temp) removeTempDir(temp);
  });

  it('runs once per tick on two servers, through a restart of one, and follows the missed policy after all were down', async () => {
    // Two servers; a push to main delivered to the first one.
    const a = await startServer('a');
    const b = await startServer('b');
    await pushAndDeliver(a, KILN_YAML);

    // Several ticks with both servers up; either server lists the
    // schedules with the next tick BullMQ has planned.
    await waitForTicks(ids.once, 4);
    await waitForTicks(ids.skip, 4);
    const listed = (await (
      await fetch(`http://127.0.0.1:${b.port}/api/schedules`)
    ).json()) as { schedules: Array<{ trigger: string; nextTickAt: string }> };
    expect(listed.schedules.map((item) => item.trigger)).toEqual([
      'every-2s',
      'every-2s-skip',
    ]);
    for (const item of listed.schedules) {
      expect(Date.parse(item.nextTickAt) - Date.now()).toBeLessThanOrEqual(
        PERIOD_MS,
      );
    }

    // One server restarts while the other keeps ticking.
    await stopServer(a);
    const whileDown = (await ticksOf(ids.once)).length;
    await waitForTicks(ids.once, whileDown + 2);
    const a2 = await startServer('a2', a.port);
    const beforeOutage = (await waitForTicks(ids.once, whileDown + 5)).length;
    const skipBeforeOutage = (await ticksOf(ids.skip)).length;

    // No missed tick, no double: one record and one run per tick.
    for (const id of [ids.once, ids.skip]) {
      const ticks = (await ticksOf(id)).filter(
        (tick) => tick.outcome !== 'pending',
      );
      expect(
        ticks.every((tick) => tick.outcome === 'run' && !tick.missed),
      ).toBe(true);
      expectEveryTickCoveredOnce(ticks);
      const runs = await runsOf(id);
      const runIds = ticks.map((tick) => tick.runId);
      expect(new Set(runIds).size).toBe(ticks.length);
      expect(runs.map((run) => run.id).sort()).toEqual(
        expect.arrayContaining([...runIds].sort() as string[]),
      );
      expect(new Set(runs.map((run) => run.trigger?.tickAt)).size).toBe(
        runs.length,
      );
      // Each tick was handled by exactly one server process.
      const handled = [a, b, a2].flatMap((server) => handledBy(server, id));
      expect(new Set(handled).size).toBe(handled.length);
    }

    // Every server down across several ticks, then one comes back.
    await Promise.all([stopServer(a2), stopServer(b)]);
    const downAt = Date.now();
    await waitFor(
      'three ticks to pass with no server',
      20_000,
      () => Date.now() > downAt + 3 * PERIOD_MS + 500,
    );
    const a3 = await startServer('a3', a.port);
    await waitForTicks(ids.once, beforeOutage + 3);
    await waitForTicks(ids.skip, skipBeforeOutage + 3);

    const once = (await ticksOf(ids.once)).filter(
      (tick) => tick.outcome !== 'pending',
    );
    const lateOnce = once.filter((tick) => tick.missed);
    expect(lateOnce).toHaveLength(1);
    expect(lateOnce[0]?.outcome).toBe('run');
    expect(lateOnce[0]?.missed?.count).toBeGreaterThanOrEqual(3);
    expectEveryTickCoveredOnce(once);
    expect((await runsOf(ids.once)).length).toBe(once.length);

    const skip = (await ticksOf(ids.skip)).filter(
      (tick) => tick.outcome !== 'pending',
    );
    const lateSkip = skip.filter((tick) => tick.missed);
    expect(lateSkip).toHaveLength(1);
    expect(lateSkip[0]).toMatchObject({ outcome: 'missed' });
    expect(lateSkip[0]?.runId).toBeUndefined();
    expect(lateSkip[0]?.missed?.count).toBeGreaterThanOrEqual(3);
    expectEveryTickCoveredOnce(skip);
    expect((await runsOf(ids.skip)).length).toBe(skip.length - 1);

    // Removing the triggers and pushing removes the schedules and their
    // BullMQ job schedulers: nothing is planned any more.
    await pushAndDeliver(
      a3,
      KILN_YAML.slice(0, KILN_YAML.indexOf('- trigger')),
    );
    await waitFor(
      'the schedules to be removed',
      30_000,
      async () => (await schedules.list()).length === 0,
    );
    expect(await bullQueue.getJobSchedulersCount()).toBe(0);
    expect(
      (await bullQueue.getDelayed()).filter((job) =>
        job.id?.startsWith('repeat:'),
      ),
    ).toEqual([]);
  }, 300_000);
});
