/**
 * L6, a flood of stdout (reliability plan §8.4 L6; docs benchmarks.md "L6
 * stdout-flood"): one run of L6_STEPS independent steps, all at once on one
 * real `kiln worker` child process with as many slots, each step printing a
 * metric line, then L6_MB MiB of 100-byte log lines, then a last metric
 * line. The local runtime by default (each step a real `/bin/sh` process
 * on this host, `yes | head -c`); `L6_RUNTIME=docker` runs them in
 * kiln-test/busybox:1 containers instead. On a private redis-server.
 *
 * Printed against the plan's targets: the worker's RSS growth (VmRSS
 * sampled every 100 ms, and VmHWM) < 256 MB; no stalled job (every node
 * claimed exactly once, and complete); the log stored per step capped
 * (its log stream's length and Redis `MEMORY USAGE` of its key, and the execution's note
 * on bytes not stored); the last metric line — printed after the cap was
 * reached — still parsed (the execution's metrics hold its value).
 *
 * Full size (the plan): L6_STEPS=32 L6_MB=1024.
 *
 *   npm run build && npm run bench:flood   (L6_STEPS=32 L6_MB=64 L6_RUNTIME=local)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ControlDeps } from '../src/control/control-deps.js';
import { createRun } from '../src/control/create-run.js';
import { DEFAULT_MAX_LOG_BYTES } from '../src/metrics/output-recorder.js';
import type { RunRecord } from '../src/model/run.js';
import { isFinalRunStatus } from '../src/orchestrator/run-machine.js';
import { createStepQueue } from '../src/queue/step-jobs.js';
import { redisOptionsFor } from '../src/redis/connect-redis.js';
import { createStores } from '../src/store/create-stores.js';
import { createRepo, git } from '../test/helpers/git-repo.js';
import { startTestRedis } from '../test/helpers/redis-server.js';
import { requireImage } from './require-image.js';
import {
  cpuSeconds,
  procMemory,
  spawnKilnWorker,
} from './spawn-kiln-worker.js';

const STEPS = Number(process.env.L6_STEPS ?? 32);
const MIB = Number(process.env.L6_MB ?? 64);
const RUNTIME = process.env.L6_RUNTIME === 'docker' ? 'docker' : 'local';
const DEADLINE_SECONDS = Number(process.env.L6_DEADLINE_SECONDS ?? 1800);
const IMAGE = 'kiln-test/busybox:1';
// Whole lines, so the last metric line starts a line of its own.
const BYTES = Math.floor((MIB * 1024 * 1024) / 100) * 100;
// 99 characters and a newline.
const LINE = `flood ${'x'.repeat(93)}`;

const CONFIG = [
  '- step:',
  '    name: flood',
  `    image: ${IMAGE}`,
  '    command:',
  `      - "echo '{\\"phase\\": 0}'"`,
  `      - yes '${LINE}' | head -n ${BYTES / 100}`,
  `      - "echo '{\\"phase\\": 1}'"`,
  '- pipeline:',
  '    name: flood',
  '    nodes:',
  ...Array.from(
    { length: STEPS },
    (_, i) => `      - {name: f${i}, type: execution, step: flood}`,
  ),
  '    edges: []',
  '',
].join('\n');

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

if (RUNTIME === 'docker') await requireImage(IMAGE);
const redis = await startTestRedis();
const dataRoot = mkdtempSync(join(tmpdir(), 'kiln-bench-l6-'));
const client = new Redis(redis.url, redisOptionsFor('worker'));
const bull = new Redis(redis.url, redisOptionsFor('worker'));
const stores = createStores(client, { prefix: 'kiln' });
const steps = createStepQueue(bull, stores.keys.bullPrefix);
const control: ControlDeps = {
  runs: stores.runs,
  executions: stores.executions,
  configs: stores.configs,
  steps,
  logger: pino({ level: 'silent' }),
};
const repoDir = createRepo({ 'kiln.yaml': CONFIG });
const commit = git(repoDir, 'rev-parse', 'HEAD');
const worker = await spawnKilnWorker({
  id: 'l6',
  redisUrl: redis.url,
  dataRoot,
  runtime: RUNTIME,
  concurrency: STEPS,
});
// Let the freshly started worker settle before taking its idle size.
await sleep(2000);
const idle = procMemory(worker.pid);
const cpuBefore = cpuSeconds(worker.pid);
let peak = idle.rss;
const sampler = setInterval(() => {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
    clearInterval(sampler);
    process.stderr.write(
      `the worker exited (${worker.child.exitCode ?? worker.child.signalCode}); its last lines:\n${worker.tail()}\n`,
    );
    process.exit(1);
  }
  peak = Math.max(peak, procMemory(worker.pid).rss);
}, 100);

const started = performance.now();
const created = await createRun(control, {
  repository: 'bench/flood',
  source: { id: 'bench/flood', url: repoDir },
  commit,
  ref: 'refs/heads/main',
  name: 'flood',
  configText: CONFIG,
  configFile: 'kiln.yaml',
});
const deadline = Date.now() + DEADLINE_SECONDS * 1000;
let run: RunRecord = created;
for (;;) {
  run = (await stores.runs.getRun(created.id)) ?? run;
  if (isFinalRunStatus(run.status) || Date.now() > deadline) break;
  await sleep(250);
}
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const cpu = cpuSeconds(worker.pid) - cpuBefore;
const after = procMemory(worker.pid);

const complete = run.nodes.filter((node) => node.status === 'complete').length;
const reclaimed = run.nodes.filter((node) => node.attempt !== 1).length;
const executions = await stores.executions.listExecutions({
  runId: run.id,
  limit: 1000,
});
const storedLines: number[] = [];
const storedBytes: number[] = [];
let lastMetricParsed = 0;
const missed: string[] = [];
const notes = new Set<string>();
for (const execution of executions) {
  const key = stores.keys.log(execution.id);
  const type = await client.type(key);
  storedLines.push(
    type === 'list'
      ? await client.llen(key)
      : type === 'stream'
        ? await client.xlen(key)
        : type === 'zset'
          ? await client.zcard(key)
          : 0,
  );
  storedBytes.push(Number(await client.memory('USAGE', key)) || 0);
  if (execution.metrics.phase === 1) lastMetricParsed += 1;
  else {
    // What the execution kept instead: its last stored line and its notes.
    const [last] = await client.xrevrange(key, '+', '-', 'COUNT', 1);
    missed.push(
      `  last metric line missing in ${execution.id}: metrics ${JSON.stringify(execution.metrics)}, last stored line ${last?.[0] ?? 'none'}, notes ${JSON.stringify(execution.notes ?? [])}`,
    );
  }
  for (const note of execution.notes ?? [])
    notes.add(note.replace(/^\d+/, 'N'));
}
const maxStored = Math.max(...storedBytes);

const lines = [
  `L6 stdout-flood: ${STEPS} steps at once on one worker (${STEPS} slots, ${RUNTIME} runtime), each printing ${MIB} MiB of 100-byte lines between two metric lines: ${mb(STEPS * BYTES)} MB in ${seconds.toFixed(1)} s (${((STEPS * BYTES) / MB / seconds).toFixed(0)} MB/s); run ${run.status}`,
  `  worker RSS: idle ${mb(idle.rss)} MB, peak sampled ${mb(peak)} MB (+${mb(peak - idle.rss)} MB; < +256 ${verdict(peak - idle.rss < 256 * MB)}), VmHWM ${mb(after.hwm)} MB, after ${mb(after.rss)} MB; worker CPU ${cpu.toFixed(1)} s (${((100 * cpu) / seconds).toFixed(0)} % of one core)`,
  `  steps complete ${complete} of ${STEPS}; claimed more than once (stalled and re-run) ${reclaimed} (0 ${verdict(reclaimed === 0 && complete === STEPS)})`,
  `  log stored per step: ${Math.min(...storedLines)}–${Math.max(...storedLines)} lines, Redis MEMORY USAGE up to ${mb(maxStored)} MB (kiln keeps the first ${mb(DEFAULT_MAX_LOG_BYTES)} MiB of log bytes and about the newest 100,000 lines; capped ${verdict(maxStored < 2 * DEFAULT_MAX_LOG_BYTES)}); notes: ${[...notes].join(' | ') || 'none'}`,
  `  last metric line${[...notes].some((note) => note.includes('log size limit')) ? ' (printed after the cap)' : ''} parsed in ${lastMetricParsed} of ${executions.length} executions (${verdict(lastMetricParsed === STEPS)})`,
];
process.stdout.write(`${[...lines, ...missed].join('\n')}\n`);
if (complete !== STEPS)
  process.stdout.write(
    `  worker's last lines:\n${worker.tail().slice(-2000)}\n`,
  );

await worker.stop();
await steps.close();
client.disconnect();
bull.disconnect();
await redis.close();
rmSync(dataRoot, { recursive: true, force: true });
rmSync(repoDir, { recursive: true, force: true });
