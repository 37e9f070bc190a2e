/**
 * L4, concurrent DAGs (reliability plan §8.4 L4; docs benchmarks.md "L4
 * concurrent-dags"): L4_DAGS runs of a 20-step DAG, all created at once,
 * on L4_WORKERS real `kiln worker` child processes × L4_SLOTS slots each,
 * with the local runtime (every step is a real `/bin/sh` process on this
 * host printing one metric line; the plan's "fake runtime"), on a private
 * redis-server. Each run is on its own commit of a real git repository
 * (each step checks its commit out). The reporter runs in this process
 * against the GitHub stand-in (test/helpers/github-stand-in.ts), which
 * enforces GitHub's secondary limit of 80 content-creating requests a
 * minute with a 403.
 *
 * The DAG: a root, 6 nodes after it, 6 nodes each after two of those
 * (fan-in 2), 6 after one each, and a sink after those 6 (fan-in 6).
 * Dependency satisfied → step start, per node: from the last upstream
 * node's end (the run's creation for the root) to the step's process start
 * (its execution's `startedAt`); also to the worker's claim (the node's
 * `startedAt`). Redis `used_memory` before the runs, at its peak (sampled
 * every 500 ms) and once every run ended (completed jobs are removed:
 * `removeOnComplete`). Then the reporter is given up to
 * L4_REPORT_SECONDS to post every commit's final status.
 *
 * `L4_RUNTIME=null` runs the same with the null runtime (no process, no
 * checkout: kiln's own dispatch only); `L4_RUNTIME=docker` in
 * kiln-test/busybox:1 containers (the plan's "real Docker" target).
 *
 * Full size (the plan): L4_DAGS=200 L4_WORKERS=4 L4_SLOTS=8. The default
 * (50 DAGs, 1,000 steps) finishes in a couple of minutes on 2 cores.
 *
 *   npm run build && npm run bench:dags
 *   (L4_RUNTIME=local L4_DAGS=50 L4_WORKERS=4 L4_SLOTS=8 L4_DEADLINE_SECONDS=900 L4_REPORT_SECONDS=180)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ControlDeps } from '../src/control/control-deps.js';
import { createRun } from '../src/control/create-run.js';
import { createGithubClient } from '../src/forge/github/create-github-client.js';
import type { RunRecord } from '../src/model/run.js';
import { isFinalRunStatus } from '../src/orchestrator/run-machine.js';
import { createStepQueue, DEFAULT_STEP_QUEUE } from '../src/queue/step-jobs.js';
import { redisOptionsFor } from '../src/redis/connect-redis.js';
import { createReporter } from '../src/reporter/start-reporter.js';
import { createStores } from '../src/store/create-stores.js';
import { createRepo, git } from '../test/helpers/git-repo.js';
import { startGithubStandIn } from '../test/helpers/github-stand-in.js';
import { startTestRedis } from '../test/helpers/redis-server.js';
import { percentile } from './bench-stats.js';
import { requireImage } from './require-image.js';
import {
  cpuSeconds,
  procMemory,
  spawnKilnWorker,
  type KilnWorker,
} from './spawn-kiln-worker.js';

const DAGS = Number(process.env.L4_DAGS ?? 50);
const WORKERS = Number(process.env.L4_WORKERS ?? 4);
const SLOTS = Number(process.env.L4_SLOTS ?? 8);
const DEADLINE_SECONDS = Number(process.env.L4_DEADLINE_SECONDS ?? 900);
const REPORT_SECONDS = Number(process.env.L4_REPORT_SECONDS ?? 180);
const RUNTIME =
  process.env.L4_RUNTIME === 'docker' || process.env.L4_RUNTIME === 'null'
    ? process.env.L4_RUNTIME
    : 'local';
const IMAGE = 'kiln-test/busybox:1';
const REPO = 'acme/loads';
const TOKEN = 'ghp_bench';
const PIPELINE = 'dag';

/** Node name → its upstream nodes: 1 → 6 → 6 (fan-in 2) → 6 → 1 (fan-in 6). */
function dagShape(): Map<string, string[]> {
  const shape = new Map<string, string[]>([['root', []]]);
  for (let i = 0; i < 6; i += 1) shape.set(`a${i}`, ['root']);
  for (let i = 0; i < 6; i += 1)
    shape.set(`b${i}`, [`a${i}`, `a${(i + 1) % 6}`]);
  for (let i = 0; i < 6; i += 1) shape.set(`c${i}`, [`b${i}`]);
  shape.set(
    'sink',
    Array.from({ length: 6 }, (_, i) => `c${i}`),
  );
  return shape;
}

const SHAPE = dagShape();
const STEPS = SHAPE.size;

function dagConfig(): string {
  const lines = [
    '- step:',
    '    name: noop',
    `    image: ${IMAGE}`,
    `    command: "echo '{\\"ok\\": 1}'"`,
    '    parameters:',
  ];
  for (let p = 0; p < 6; p += 1)
    lines.push(
      `      - name: p${p}`,
      '        type: integer',
      '        default: 0',
    );
  lines.push('- pipeline:', `    name: ${PIPELINE}`, '    nodes:');
  for (const name of SHAPE.keys())
    lines.push(`      - {name: ${name}, type: execution, step: noop}`);
  lines.push('    edges:');
  for (const [name, upstream] of SHAPE)
    upstream.forEach((from, p) =>
      lines.push(`      - [${from}.metadata.ok, ${name}.parameter.p${p}]`),
    );
  return `${lines.join('\n')}\n`;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const ms = (value: number) => `${value.toFixed(0)} ms`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

if (RUNTIME === 'docker') await requireImage(IMAGE);
const config = dagConfig();
const redis = await startTestRedis();
const github = await startGithubStandIn({ tokens: [TOKEN] });
const dataRoot = mkdtempSync(join(tmpdir(), 'kiln-bench-l4-'));
const client = new Redis(redis.url, redisOptionsFor('worker'));
const bull = new Redis(redis.url, redisOptionsFor('worker'));
const prefix = 'kiln';
const stores = createStores(client, { prefix });
const logger = pino({ level: 'silent' });
const steps = createStepQueue(bull, stores.keys.bullPrefix);
const control: ControlDeps = {
  runs: stores.runs,
  executions: stores.executions,
  configs: stores.configs,
  steps,
  logger,
};
const reporter = createReporter({
  redis: client,
  bullConnection: bull,
  keys: stores.keys,
  runs: stores.runs,
  configs: stores.configs,
  executions: stores.executions,
  logger,
  settings: { publicUrl: 'https://kiln.example.com' },
  github: createGithubClient({
    settings: { githubApiUrl: github.url, githubToken: TOKEN },
    logger,
  }),
});
reporter.startReportWorker();

// One commit per DAG, so each run has its own (SHA, context) on GitHub.
const repoDir = createRepo({ 'kiln.yaml': config });
const commits: string[] = [];
for (let i = 0; i < DAGS; i += 1) {
  git(repoDir, 'commit', '-q', '--allow-empty', '-m', `dag ${i}`);
  commits.push(git(repoDir, 'rev-parse', 'HEAD'));
}

const workers: KilnWorker[] = [];
for (let w = 0; w < WORKERS; w += 1)
  workers.push(
    await spawnKilnWorker({
      id: `l4-${w}`,
      redisUrl: redis.url,
      dataRoot,
      runtime: RUNTIME,
      concurrency: SLOTS,
    }),
  );
const cpuBefore = workers.map((worker) => cpuSeconds(worker.pid));
const redisBefore = await usedMemory(client);
let redisPeak = redisBefore;
const sampler = setInterval(() => {
  void usedMemory(client).then((used) => {
    redisPeak = Math.max(redisPeak, used);
  });
}, 500);

const started = performance.now();
const created = await Promise.all(
  commits.map((commit, i) =>
    createRun(control, {
      repository: REPO,
      source: { id: REPO, url: repoDir },
      commit,
      ref: `refs/heads/dag-${i}`,
      name: PIPELINE,
      configText: config,
      configFile: 'kiln.yaml',
      trigger: { event: 'push', fork: false },
    }),
  ),
);
const createdMs = performance.now() - started;

// Every run ends (or the deadline passes); a slow poll, so reading 200
// runs does not take the CPU the workers need.
const deadline = Date.now() + DEADLINE_SECONDS * 1000;
let runs: RunRecord[] = [];
for (;;) {
  runs = (await Promise.all(
    created.map((run) => stores.runs.getRun(run.id)),
  )) as RunRecord[];
  if (runs.every((run) => run && isFinalRunStatus(run.status))) break;
  if (Date.now() > deadline) break;
  await sleep(1000);
}
const wallSeconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const redisAfter = await usedMemory(client);
const workerCpu = workers.map(
  (worker, w) => cpuSeconds(worker.pid) - (cpuBefore[w] ?? 0),
);
const workerMemory = workers.map((worker) => procMemory(worker.pid));

// Dependency satisfied → claim and → process start, per node.
const toStart: number[] = [];
const toClaim: number[] = [];
/** Claim → node end: how long a step holds its slot. */
const slotTime: number[] = [];
/** The step's process, start → end. */
const processTime: number[] = [];
const byStatus = new Map<string, number>();
let missing = 0;
for (const run of runs) {
  byStatus.set(run.status, (byStatus.get(run.status) ?? 0) + 1);
  const executions = await stores.executions.listExecutions({
    runId: run.id,
    limit: 1000,
  });
  const execution = new Map(executions.map((item) => [item.id, item]));
  const node = new Map(run.nodes.map((item) => [item.name, item]));
  for (const [name, upstream] of SHAPE) {
    const state = node.get(name);
    const processStart = state?.executionId
      ? execution.get(state.executionId)?.startedAt
      : undefined;
    const satisfied =
      upstream.length === 0
        ? Date.parse(run.createdAt)
        : Math.max(
            ...upstream.map((from) =>
              Date.parse(node.get(from)?.endedAt ?? ''),
            ),
          );
    if (!state?.startedAt || !processStart || !Number.isFinite(satisfied)) {
      missing += 1;
      continue;
    }
    toClaim.push(Date.parse(state.startedAt) - satisfied);
    toStart.push(Date.parse(processStart) - satisfied);
    const processEnd = execution.get(state.executionId ?? '')?.endedAt;
    if (state.endedAt)
      slotTime.push(Date.parse(state.endedAt) - Date.parse(state.startedAt));
    if (processEnd)
      processTime.push(Date.parse(processEnd) - Date.parse(processStart));
  }
}
const complete = byStatus.get('complete') ?? 0;

// The reporter: every commit's final status, within REPORT_SECONDS.
const context = `kiln/${PIPELINE}`;
const finalOf = (commit: string) =>
  github
    .statusesFor(REPO, commit, context)
    .some((status) => status.state !== 'pending');
const reportDeadline = Date.now() + REPORT_SECONDS * 1000;
while (Date.now() < reportDeadline && !commits.every(finalOf))
  await sleep(1000);
const reportedSeconds = (performance.now() - started) / 1000;
const finals = commits.filter(finalOf).length;
const refused = github.requests.filter(
  (request) => request.status === 403 || request.status === 429,
).length;
const writes = github.contentWrites().length;
const perMinute = github.maxWritesPerMinute();
const statusWrites = Math.max(
  0,
  ...commits.map((commit) => github.statusesFor(REPO, commit, context).length),
);
const redisReported = await usedMemory(client);
// Read last: BullMQ completes a job just after its run's end is applied.
const stepQueue = new Queue(DEFAULT_STEP_QUEUE, {
  connection: bull,
  prefix: stores.keys.bullPrefix,
});
const jobCounts = await stepQueue.getJobCounts();
await stepQueue.close();

const lines = [
  `L4 concurrent-dags: ${DAGS} runs × ${STEPS} steps (${DAGS * STEPS} steps) on ${WORKERS} workers × ${SLOTS} slots, ${RUNTIME} runtime, created in ${ms(createdMs)}`,
  `  all complete: ${complete} of ${DAGS} (${[...byStatus].map(([status, n]) => `${status} ${n}`).join(', ')}) in ${wallSeconds.toFixed(1)} s, ${((DAGS * STEPS) / wallSeconds).toFixed(1)} steps/s (${verdict(complete === DAGS)}); ${missing} steps without a start`,
  `  dependency satisfied → process start: p50 ${ms(percentile(toStart, 50))}, p95 ${ms(percentile(toStart, 95))}, max ${ms(Math.max(...toStart))} (p95 < 1 s ${verdict(percentile(toStart, 95) < 1000)}); → worker's claim: p50 ${ms(percentile(toClaim, 50))}, p95 ${ms(percentile(toClaim, 95))}`,
  `  a step holds its slot (claim → node end) p50 ${ms(percentile(slotTime, 50))}, p95 ${ms(percentile(slotTime, 95))}, of which its process ran p50 ${ms(percentile(processTime, 50))}: ${WORKERS * SLOTS} slots ÷ ${(percentile(slotTime, 50) / 1000).toFixed(2)} s ≈ ${((WORKERS * SLOTS) / (percentile(slotTime, 50) / 1000)).toFixed(0)} steps/s at most; nodes that become ready while every slot is busy wait in the queue`,
  `  Redis used_memory: before ${mb(redisBefore)} MB, peak ${mb(redisPeak)} MB (< 256 ${verdict(redisPeak < 256 * MB)}), all ended ${mb(redisAfter)} MB (${((redisAfter - redisBefore) / 1024 / (DAGS * STEPS)).toFixed(1)} KB per step), after reporting ${mb(redisReported)} MB; step queue left: ${
    Object.entries(jobCounts)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${state} ${n}`)
      .join(', ') || 'nothing'
  }`,
  `  workers: CPU ${workerCpu.map((s) => s.toFixed(1)).join(' / ')} s, RSS ${workerMemory.map((m) => mb(m.rss)).join(' / ')} MB (VmHWM ${workerMemory.map((m) => mb(m.hwm)).join(' / ')} MB)`,
  `  GitHub stand-in: ${finals} of ${DAGS} commits got their final status (${reportedSeconds.toFixed(0)} s after the start); ${writes} content-creating requests, at most ${perMinute} in any 60 s (≤ 60 ${verdict(perMinute <= 60)}); 403/429 answers ${refused} (0 ${verdict(refused === 0)}); status writes per (SHA, context) at most ${statusWrites} (≤ 5 ${verdict(statusWrites <= 5)})`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (complete !== DAGS)
  process.stdout.write(
    `  a worker's last lines:\n${workers[0]?.tail().slice(-1500) ?? ''}\n`,
  );

await Promise.all(workers.map((worker) => worker.stop()));
await reporter.close();
await steps.close();
client.disconnect();
bull.disconnect();
await github.close();
await redis.close();
rmSync(dataRoot, { recursive: true, force: true });
rmSync(repoDir, { recursive: true, force: true });
