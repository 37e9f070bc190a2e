/**
 * kiln as a service for multi-process tests: a private redis-server this
 * file may kill and restart, real `kiln worker` child processes (each with
 * its own id and data dir, as on separate hosts), a real git repository,
 * and the control plane in the test process to create, cancel and inspect
 * runs.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ExecutionRecord } from '../../../src/model/execution.js';
import type { RunRecord } from '../../../src/model/run.js';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import { createRun } from '../../../src/control/create-run.js';
import { createStepQueue } from '../../../src/queue/step-jobs.js';
import type { RedisKeys } from '../../../src/redis/redis-keys.js';
import { redisOptionsFor } from '../../../src/redis/connect-redis.js';
import { createStores } from '../../../src/store/create-stores.js';
import { createRepo, git } from '../../helpers/git-repo.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';

const KILN_BIN = resolve(import.meta.dirname, '../../../bin/kiln.js');
export const REPOSITORY = 'acme/service';

export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  /** Everything it printed so far (pino JSON lines). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

export interface SpawnWorkerOptions {
  id: string;
  /** `kubernetes` needs KUBECONFIG and the rest of its settings in `env`. */
  runtime: 'docker' | 'kubernetes' | 'local' | 'null';
  concurrency?: number;
  /** @defaultValue 30000 */
  shutdownGraceMs?: number;
  /** More environment (settings) for this worker. */
  env?: Record<string, string>;
  /** @defaultValue true: resolve once it logged "worker started" */
  waitUntilStarted?: boolean;
}

export interface ServiceFixture {
  redis: TestRedis;
  deps: ControlDeps;
  keys: RedisKeys;
  /** A plain connection to the test's Redis. */
  redisClient: Redis;
  /** A temp dir on the host, for markers written by local-runtime steps. */
  hostDir: string;
  spawnWorker(options: SpawnWorkerOptions): Promise<WorkerProcess>;
  /** Commits `kiln.yaml` and creates a run of `name` on that commit. */
  startRun(
    configText: string,
    name: string,
    options?: {
      trusted?: boolean;
      ref?: string;
      trigger?: RunRecord['trigger'];
    },
  ): Promise<RunRecord>;
  getRun(id: string): Promise<RunRecord>;
  executionsOf(run: RunRecord): Promise<ExecutionRecord[]>;
  logText(executionId: string): Promise<string>;
  /** Workers' output tails and the run's state, for failure messages. */
  describe(runId?: string): Promise<string>;
  close(): Promise<void>;
}

/** Short lock and stall check so a dead worker's step moves within seconds. */
export const LOCK_DURATION_MS = 5000;
export const STALLED_INTERVAL_MS = 2000;

export async function startServiceFixture(): Promise<ServiceFixture> {
  const redis = await startTestRedis();
  const hostDir = mkdtempSync(join(tmpdir(), 'kiln-service-'));
  const client = new Redis(redis.url, redisOptionsFor('worker'));
  const bull = new Redis(redis.url, redisOptionsFor('worker'));
  client.on('error', () => undefined);
  bull.on('error', () => undefined);
  const prefix = 'kiln';
  const stores = createStores(client, { prefix });
  const deps: ControlDeps = {
    executions: stores.executions,
    runs: stores.runs,
    configs: stores.configs,
    steps: createStepQueue(bull, stores.keys.bullPrefix),
    logger: pino({ level: 'silent' }),
  };
  const workers: WorkerProcess[] = [];
  const repoDir = createRepo({ 'README.md': 'service test\n' });

  async function spawnWorker(
    options: SpawnWorkerOptions,
  ): Promise<WorkerProcess> {
    const dataDir = join(hostDir, `data-${options.id}`);
    const child = spawn(process.execPath, [KILN_BIN, 'worker'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        REDIS_URL: redis.url,
        KILN_DATA_DIR: dataDir,
        KILN_RUNTIME: options.runtime,
        KILN_WORKER_ID: options.id,
        KILN_CONCURRENCY: String(options.concurrency ?? 1),
        KILN_LOCK_DURATION_MS: String(LOCK_DURATION_MS),
        KILN_STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS),
        KILN_SHUTDOWN_GRACE_MS: String(options.shutdownGraceMs ?? 30_000),
        KILN_LOG_LEVEL: 'info',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    const worker: WorkerProcess = {
      id: options.id,
      child,
      output: () => output,
      exited,
    };
    workers.push(worker);
    if (options.waitUntilStarted === false) return worker;
    await waitFor(`worker ${options.id} started`, 60_000, () => {
      if (child.exitCode !== null)
        throw new Error(`worker ${options.id} exited:\n${output}`);
      return output.includes('worker started');
    });
    return worker;
  }

  async function startRun(
    configText: string,
    name: string,
    options: {
      trusted?: boolean;
      ref?: string;
      trigger?: RunRecord['trigger'];
    } = {},
  ): Promise<RunRecord> {
    execFileSync('sh', ['-c', 'cat > "$1"', 'sh', join(repoDir, 'kiln.yaml')], {
      input: configText,
    });
    git(repoDir, 'add', '--', 'kiln.yaml');
    git(repoDir, 'commit', '-q', '--allow-empty', '-m', `run ${name}`);
    const commit = git(repoDir, 'rev-parse', 'HEAD');
    return createRun(deps, {
      repository: REPOSITORY,
      source: { id: REPOSITORY, url: repoDir },
      commit,
      ref: options.ref ?? 'refs/heads/main',
      name,
      configText,
      configFile: 'kiln.yaml',
      trusted: options.trusted,
      trigger: options.trigger,
    });
  }

  async function getRun(id: string): Promise<RunRecord> {
    const run = await deps.runs.getRun(id);
    if (!run) throw new Error(`run ${id} is not stored`);
    return run;
  }

  return {
    redis,
    deps,
    keys: stores.keys,
    redisClient: client,
    hostDir,
    spawnWorker,
    startRun,
    getRun,
    executionsOf: (run) =>
      deps.executions.listExecutions({ runId: run.id, limit: 1000 }),
    async logText(executionId) {
      const lines = await deps.executions.readLog(executionId, {
        limit: 10_000,
      });
      return lines.map((line) => line.text).join('\n');
    },
    async describe(runId) {
      const run = runId ? await deps.runs.getRun(runId) : null;
      const tails = workers.map(
        (worker) => `--- ${worker.id}:\n${worker.output().slice(-3000)}`,
      );
      return [`run: ${JSON.stringify(run)}`, ...tails].join('\n');
    },
    async close() {
      for (const worker of workers) {
        if (worker.child.exitCode === null && worker.child.signalCode === null)
          worker.child.kill('SIGKILL');
        await worker.exited;
      }
      await deps.steps.close().catch(() => undefined);
      client.disconnect();
      bull.disconnect();
      await redis.close();
      rmSync(hostDir, { recursive: true, force: true });
      rmSync(repoDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns true; throws with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

export async function waitForRun(
  fixture: ServiceFixture,
  runId: string,
  check: (run: RunRecord) => boolean,
  timeoutMs = 120_000,
): Promise<RunRecord> {
  let last: RunRecord | undefined;
  await waitFor(`run ${runId}`, timeoutMs, async () => {
    last = (await fixture.deps.runs.getRun(runId)) ?? undefined;
    return last !== undefined && check(last);
  }).catch((error: unknown) => {
    throw new Error(
      `${(error as Error).message}; last state: ${JSON.stringify(last?.nodes)} ${last?.status}`,
    );
  });
  return last as RunRecord;
}

/** Ids of the containers of a run, running or not. */
export function containersOf(runId: string): string[] {
  const out = execFileSync(
    'docker',
    ['ps', '-a', '-q', '--filter', `label=kiln.run=${runId}`],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return out.split('\n').filter((line) => line.trim() !== '');
}

/** The `kiln.worker` label of a run's running container, if any. */
export function workerOfRunningContainer(runId: string): string | undefined {
  const out = execFileSync(
    'docker',
    [
      'ps',
      '--filter',
      `label=kiln.run=${runId}`,
      '--format',
      '{{.Label "kiln.worker"}}',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return out.split('\n').find((line) => line.trim() !== '');
}

/**
 * Samples `docker ps` for a run's containers until stopped; returns the
 * largest count seen at one instant.
 */
export function watchContainerCount(runId: string): {
  stop(): Promise<number>;
} {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        max = Math.max(max, containersOf(runId).length);
      } catch {
        // docker ps timing out on a loaded box: the next sample counts.
      }
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

export function countLines(file: string, text: string): number {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line === text).length;
  } catch {
    return 0;
  }
}
