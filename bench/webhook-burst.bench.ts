/**
 * L1, webhook burst (reliability plan §8.4 L1; docs benchmarks.md "L1
 * webhook-burst"): 1,000 signed push deliveries in 10 s, sent open-loop at a
 * fixed rate (one new connection each, as GitHub does), into one real
 * `kiln server` child process (bin/kiln.js: HTTP routes and intake worker
 * in one process) on a private redis-server. Sizes are uniform in
 * 1 KB–1 MB, plus a few bodies just under the configured body cap; every
 * tenth delivery carries a wrong signature of the right length. Ack is the
 * HTTP answer, timed from opening the connection to the last byte of the
 * answer; the intake worker may still be working afterwards. Bodies and
 * signatures are made before the burst, so the sender's CPU in the window
 * is only the sending.
 *
 * Prints ack p50/p99/max of the valid deliveries (and p50 by body size),
 * the answers by class, the server's CPU time during the burst, its peak
 * RSS (VmHWM, and the highest VmRSS sampled every 20 ms) and Redis
 * `used_memory` growth per accepted delivery, right after the last answer
 * and again when the intake queue is idle (or after L1_DRAIN_SECONDS) —
 * and each target met or missed. Not a ratio measure: the plan gives
 * absolute targets. `bin/kiln.js` runs dist/ when it exists (npm run build),
 * else the sources through tsx, which costs memory of its own.
 *
 *   npm run bench:burst   (L1_COUNT=1000 L1_SECONDS=10 L1_CAPPED=5 L1_DRAIN_SECONDS=30)
 *
 * To look inside the server: L1_NODE_ARGS="--trace-gc" L1_SERVER_STDOUT=1
 * (node options for the server, and its stdout shown).
 */
import { spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import examples from '@octokit/webhooks-examples' with { type: 'json' };
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createRandom, percentile } from './bench-stats.js';
import { INTAKE_QUEUE } from '../src/intake/intake-queue.js';
import { createRedisKeys } from '../src/redis/redis-keys.js';
import { freePort, startTestRedis } from '../test/helpers/redis-server.js';

const SECRET = 'bench-secret';
const COUNT = Number(process.env.L1_COUNT ?? 1000);
const SECONDS = Number(process.env.L1_SECONDS ?? 10);
const CAPPED = Number(process.env.L1_CAPPED ?? 5);
const DRAIN_SECONDS = Number(process.env.L1_DRAIN_SECONDS ?? 30);
const MAX_BYTES = 25 * 1024 * 1024; // KILN_WEBHOOK_MAX_BYTES's default
const KILN_BIN = fileURLToPath(new URL('../bin/kiln.js', import.meta.url));

const push = (
  examples as unknown as Array<{ name: string; examples: unknown[] }>
).find((group) => group.name === 'push')?.examples[0] as
  Record<string, unknown> | undefined;
if (!push) throw new Error('no push example in @octokit/webhooks-examples');

/** A push of exactly `size` bytes with its own `after` SHA. */
function pushBody(size: number): Buffer {
  const payload = {
    ...push,
    after: randomBytes(20).toString('hex'),
    commits: [{ id: randomBytes(20).toString('hex'), message: '' }],
  };
  const bare = Buffer.byteLength(JSON.stringify(payload));
  payload.commits[0]!.message = 'x'.repeat(Math.max(0, size - bare));
  return Buffer.from(JSON.stringify(payload));
}

interface Delivery {
  size: number;
  valid: boolean;
  body: Buffer;
  signature: string;
}

/** The mix, in sending order: uniform 1 KB–1 MB, the capped ones spread. */
function deliveries(): Delivery[] {
  const random = createRandom(11);
  const sizes = Array.from(
    { length: COUNT },
    () => 1024 + Math.floor(random() * (1024 * 1024 - 1024)),
  );
  for (let k = 0; k < CAPPED; k += 1)
    sizes[Math.floor(((k + 0.5) * COUNT) / CAPPED)] = MAX_BYTES - 4096;
  return sizes.map((size, i) => {
    const valid = i % 10 !== 9 || size > 1024 * 1024;
    const body = pushBody(size);
    const digest = createHmac('sha256', SECRET).update(body).digest('hex');
    // A wrong signature of the right length: the digest with its end changed.
    const signature = valid
      ? `sha256=${digest}`
      : `sha256=${digest.slice(0, -4)}${digest.endsWith('0000') ? '1111' : '0000'}`;
    return { size, valid, body, signature };
  });
}

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

interface Answer {
  status: number;
  ms: number;
  valid: boolean;
}

function post(port: number, delivery: Delivery): Promise<Answer> {
  const { body, signature } = delivery;
  const start = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhooks/github',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: performance.now() - start,
            valid: delivery.valid,
          }),
        );
      },
    );
    req.on('error', () =>
      resolve({
        status: 0,
        ms: performance.now() - start,
        valid: delivery.valid,
      }),
    );
    req.end(body);
  });
}

/** User + system CPU seconds of a process (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]
    ?.split(' ');
  return (Number(fields?.[11] ?? 0) + Number(fields?.[12] ?? 0)) / 100;
}

function procStatus(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);

const redis = await startTestRedis();
const admin = new Redis(redis.url);
const keys = createRedisKeys();
const intakeConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
const intake = new Queue(INTAKE_QUEUE, {
  connection: intakeConnection,
  prefix: keys.bullPrefix,
});
const dataDir = mkdtempSync(join(tmpdir(), 'kiln-bench-l1-'));
const port = await freePort();
const child = spawn(
  process.execPath,
  [
    ...(process.env.L1_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    KILN_BIN,
    'server',
  ],
  {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: redis.url,
      KILN_DATA_DIR: dataDir,
      KILN_PORT: String(port),
      KILN_HOST: '127.0.0.1',
      KILN_WEBHOOK_SECRET: SECRET,
      KILN_LOG_LEVEL: 'warn',
    },
    stdio: [
      'ignore',
      process.env.L1_SERVER_STDOUT ? 'inherit' : 'ignore',
      'pipe',
    ],
  },
);
let childErr = '';
child.stderr?.on('data', (chunk: Buffer) => {
  childErr = (childErr + chunk.toString()).slice(-4000);
});
const pid = child.pid ?? 0;
const ready = Date.now() + 90_000;
for (;;) {
  if (child.exitCode !== null)
    throw new Error(`kiln server exited ${child.exitCode}:\n${childErr}`);
  const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(
    () => null,
  );
  if (answer?.ok) break;
  if (Date.now() > ready)
    throw new Error('kiln server did not answer /healthz');
  await sleep(200);
}

const mix = deliveries();
const idle = procStatus(pid);
const cpuBefore = cpuSeconds(pid);
const redisBefore = await usedMemory(admin);
let peakRss = idle.rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, procStatus(pid).rss);
}, 20);

const answers: Promise<Answer>[] = [];
const start = performance.now();
for (let i = 0; i < mix.length; i += 1) {
  const due = start + (i * SECONDS * 1000) / mix.length;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  answers.push(post(port, mix[i]!));
}
const results = await Promise.all(answers);
const sentSeconds = (performance.now() - start) / 1000;
clearInterval(sampler);
const after = procStatus(pid);
const cpuBurst = cpuSeconds(pid) - cpuBefore;
peakRss = Math.max(peakRss, after.rss);
const redisAfterAck = await usedMemory(admin);

const valid = results.filter((r) => r.valid);
const bad = results.filter((r) => !r.valid);
const accepted = valid.filter((r) => r.status >= 200 && r.status < 300).length;
const classes = new Map<string, number>();
for (const r of valid) {
  const key = `valid ${r.status}`;
  classes.set(key, (classes.get(key) ?? 0) + 1);
}
for (const r of bad) {
  const key = `bad ${r.status}`;
  classes.set(key, (classes.get(key) ?? 0) + 1);
}
const ms = valid.map((r) => r.ms);
const p50 = percentile(ms, 50);
const p99 = percentile(ms, 99);
const max = Math.max(...ms);
const band = (low: number, high: number) => {
  const inBand = results.filter(
    (r, i) => r.valid && mix[i]!.size >= low && mix[i]!.size < high,
  );
  return `${percentile(
    inBand.map((r) => r.ms),
    50,
  ).toFixed(0)} ms (${inBand.length})`;
};
const cappedMs = results
  .filter((_, i) => mix[i]!.size > 1024 * 1024)
  .map((r) => r.ms.toFixed(0));

// The intake worker keeps working after the answers; wait (bounded) for it.
const drainDeadline = Date.now() + DRAIN_SECONDS * 1000;
let drained = false;
while (Date.now() < drainDeadline) {
  const counts = await intake.getJobCounts('waiting', 'active', 'delayed');
  if (
    (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) ===
    0
  ) {
    drained = true;
    break;
  }
  await sleep(500);
}
const redisSettled = await usedMemory(admin);
const settled = procStatus(pid);

const perAck = (redisAfterAck - redisBefore) / Math.max(1, accepted);
const perSettled = (redisSettled - redisBefore) / Math.max(1, accepted);
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const lines = [
  `L1 webhook burst: ${results.length} deliveries (${bad.length} bad signatures, ${CAPPED} of ${mb(MAX_BYTES - 4096)} MB, the rest uniform 1 KB–1 MB) sent in ${sentSeconds.toFixed(1)} s to one kiln server`,
  `  answers: ${[...classes].map(([k, v]) => `${k}: ${v}`).join(', ')}`,
  `  server CPU during the burst: ${cpuBurst.toFixed(1)} s in ${sentSeconds.toFixed(1)} s (${((100 * cpuBurst) / sentSeconds).toFixed(0)} % of one core)`,
  `  ack p50 by body size: < 64 KB ${band(0, 64 * 1024)}, 64–512 KB ${band(64 * 1024, 512 * 1024)}, 512 KB–1 MB ${band(512 * 1024, 1024 * 1024 + 1)}`,
  `  ack of valid: p50 ${p50.toFixed(1)} ms (< 50 ${verdict(p50 < 50)}), p99 ${p99.toFixed(1)} ms (< 500 ${verdict(p99 < 500)}), max ${max.toFixed(0)} ms (< 2000 ${verdict(max < 2000)}); near-cap bodies ${cappedMs.join('/')} ms`,
  `  valid not 2xx: ${valid.length - accepted} (0 ${verdict(accepted === valid.length)}); bad not 401: ${bad.filter((r) => r.status !== 401).length} (0 ${verdict(bad.every((r) => r.status === 401))})`,
  `  server RSS: idle ${mb(idle.rss)} MB, peak sampled ${mb(peakRss)} MB, VmHWM ${mb(Math.max(after.hwm, settled.hwm))} MB (< 300 ${verdict(Math.max(after.hwm, settled.hwm) < 300 * MB)}), after intake ${mb(settled.rss)} MB`,
  `  Redis used_memory: before ${mb(redisBefore)} MB, after the answers ${mb(redisAfterAck)} MB (${(perAck / 1024).toFixed(1)} KB per accepted delivery), intake ${drained ? 'idle' : `still busy after ${DRAIN_SECONDS} s`} ${mb(redisSettled)} MB (${(perSettled / 1024).toFixed(1)} KB per accepted delivery)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
const lastErr = childErr.trim().split('\n').at(-1);
if (lastErr)
  process.stdout.write(`  server's last log line: ${lastErr.slice(0, 300)}\n`);

agent.destroy();
child.kill('SIGTERM');
await new Promise((done) => child.once('exit', done));
await intake.close();
intakeConnection.disconnect();
admin.disconnect();
await redis.close();
rmSync(dataDir, { recursive: true, force: true });
