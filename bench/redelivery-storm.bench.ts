/**
 * L3, redelivery storm (reliability plan §8.4 L3; docs benchmarks.md "L3
 * redelivery-storm"): L3_COUNT signed push deliveries in L3_SECONDS into
 * one real `kiln server` child process (HTTP routes and intake worker) on a
 * private redis-server, reading a real local git origin. Half of them are
 * distinct pushes (one commit, pushed to one of 100 branches, each push
 * with its own `pushed_at`); the other half repeat one of those: a quarter
 * are redeliveries (the same `X-GitHub-Delivery` GUID and body, as
 * GitHub's "redeliver" sends), a quarter the same push under a new GUID
 * (the same event through a second hook). Sent open-loop at a fixed rate,
 * in a shuffled order (a copy may arrive before its original), one new
 * connection each.
 *
 * Then waits (up to L3_DRAIN_SECONDS) for the intake queue to be idle and
 * counts the runs: the target is exactly one run per distinct push — the
 * stored run ids must equal the ids kiln derives from each distinct push
 * (`runIdFor(eventKey(...))`), none missing and none extra. Also printed:
 * the answers by class, ack p50/p99, and the server's RSS and Redis
 * `used_memory`. No worker runs: the runs' steps stay queued.
 *
 * Full size (the plan): L3_COUNT=10000 L3_SECONDS=300.
 *
 *   npm run build && npm run bench:redelivery
 *   (L3_COUNT=1000 L3_SECONDS=30 L3_DRAIN_SECONDS=600)
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { toTriggerEvent } from '../src/forge/github/to-trigger-event.js';
import { eventKey, runIdFor } from '../src/intake/create-trigger-runs.js';
import { INTAKE_QUEUE } from '../src/intake/intake-queue.js';
import { createRedisKeys } from '../src/redis/redis-keys.js';
import { createRepo, git } from '../test/helpers/git-repo.js';
import { freePort, startTestRedis } from '../test/helpers/redis-server.js';
import { pushPayload } from '../test/integration/intake/intake-fixture.js';
import { createRandom, percentile } from './bench-stats.js';
import { spawnKilnServer } from './spawn-kiln-server.js';
import { procMemory } from './spawn-kiln-worker.js';

const COUNT = 2 * Math.floor(Number(process.env.L3_COUNT ?? 1000) / 2);
const SECONDS = Number(process.env.L3_SECONDS ?? 30);
const DRAIN_SECONDS = Number(process.env.L3_DRAIN_SECONDS ?? 600);
const BRANCHES = 100;
const SECRET = 'bench-secret';
const REPOSITORY = 'bench/redelivery';
const CONFIG = `- step:
    name: first
    image: busybox
    command: echo first
- trigger:
    name: on-push
    on: [push]
    run: first
`;

interface Delivery {
  guid: string;
  body: Buffer;
  signature: string;
  kind: 'first' | 'redelivery' | 'new-guid';
}

const temp = mkdtempSync(join(tmpdir(), 'kiln-bench-l3-'));
const work = createRepo({ 'kiln.yaml': CONFIG });
const bare = join(temp, 'origin.git');
execFileSync('git', ['init', '-q', '--bare', bare]);
const commit = git(work, 'rev-parse', 'HEAD');
for (let b = 0; b < BRANCHES; b += 1)
  git(work, 'push', '-q', bare, `HEAD:refs/heads/b${b}`);

// The distinct pushes, and the run id kiln derives from each.
const pushedAt = Math.floor(Date.now() / 1000) - COUNT;
const firsts: Delivery[] = [];
const expected = new Set<string>();
for (let i = 0; i < COUNT / 2; i += 1) {
  const payload = pushPayload({
    bareDir: bare,
    branch: `b${i % BRANCHES}`,
    before: commit,
    after: commit,
    repository: REPOSITORY,
    pushedAt: pushedAt + i,
  });
  const translated = toTriggerEvent('push', payload);
  if (!('event' in translated) || translated.event.kind !== 'push')
    throw new Error(`push ${i} is not a push event`);
  expected.add(runIdFor(eventKey(translated.event), '0'));
  const body = Buffer.from(JSON.stringify(payload));
  firsts.push({
    guid: randomUUID(),
    body,
    signature: `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    kind: 'first',
  });
}
if (expected.size !== firsts.length)
  throw new Error('two distinct pushes derive the same run id');
const random = createRandom(3);
const copies: Delivery[] = firsts.map((first, i) =>
  i % 2 === 0
    ? { ...first, kind: 'redelivery' }
    : { ...first, guid: randomUUID(), kind: 'new-guid' },
);
const mix = [...firsts, ...copies];
for (let i = mix.length - 1; i > 0; i -= 1) {
  const j = Math.floor(random() * (i + 1));
  [mix[i], mix[j]] = [mix[j] as Delivery, mix[i] as Delivery];
}

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
interface Answer {
  status: number;
  ms: number;
  kind: Delivery['kind'];
}
function post(port: number, delivery: Delivery): Promise<Answer> {
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
          'content-length': delivery.body.length,
          'x-github-event': 'push',
          'x-github-delivery': delivery.guid,
          'x-hub-signature-256': delivery.signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: performance.now() - start,
            kind: delivery.kind,
          }),
        );
      },
    );
    req.on('error', () =>
      resolve({
        status: 0,
        ms: performance.now() - start,
        kind: delivery.kind,
      }),
    );
    req.end(delivery.body);
  });
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

const redis = await startTestRedis();
const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
const keys = createRedisKeys();
const intake = new Queue(INTAKE_QUEUE, {
  connection: admin,
  prefix: keys.bullPrefix,
});
const server = await spawnKilnServer({
  redisUrl: redis.url,
  dataDir: join(temp, 'data'),
  port: await freePort(),
  secret: SECRET,
});
const { pid, port } = server;

const idle = procMemory(pid);
const redisBefore = await usedMemory(admin);
const answers: Promise<Answer>[] = [];
const start = performance.now();
for (let i = 0; i < mix.length; i += 1) {
  const due = start + (i * SECONDS * 1000) / mix.length;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  answers.push(post(port, mix[i] as Delivery));
}
const results = await Promise.all(answers);
const sentSeconds = (performance.now() - start) / 1000;

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
const drainSeconds = (performance.now() - start) / 1000;
const failedJobs = (await intake.getJobCounts('failed')).failed ?? 0;
const stored = await admin.zrange(keys.runs, 0, -1);
const storedSet = new Set(stored);
const missing = [...expected].filter((id) => !storedSet.has(id)).length;
const extra = stored.filter((id) => !expected.has(id)).length;
const memory = procMemory(pid);
const redisAfter = await usedMemory(admin);

const classes = new Map<string, number>();
for (const r of results) {
  const key = `${r.kind} ${r.status}`;
  classes.set(key, (classes.get(key) ?? 0) + 1);
}
const queued = results.filter((r) => r.status === 202).length;
const notOk = results.filter((r) => r.status < 200 || r.status >= 300).length;
const ms = results.map((r) => r.ms);
const lines = [
  `L3 redelivery-storm: ${COUNT} deliveries (${COUNT / 2} distinct pushes, ${Math.ceil(COUNT / 4)} redelivered with the same GUID, ${Math.floor(COUNT / 4)} again under a new GUID) sent in ${sentSeconds.toFixed(1)} s to one kiln server`,
  `  answers: ${[...classes]
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(
      ', ',
    )}; not 2xx: ${notOk}; ack p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(0)} ms`,
  `  intake ${drained ? `idle ${drainSeconds.toFixed(1)} s after the first delivery` : `still busy after ${DRAIN_SECONDS} s`}: ${queued} queued deliveries processed at ${(queued / drainSeconds).toFixed(1)}/s; failed intake jobs: ${failedJobs}`,
  `  runs: ${stored.length} stored for ${COUNT / 2} distinct pushes (exactly ${COUNT / 2} ${verdict(stored.length === COUNT / 2 && missing === 0)}); missing ${missing}, extra (duplicates) ${extra} (0 ${verdict(extra === 0)})`,
  `  server RSS idle ${mb(idle.rss)} MB, after ${mb(memory.rss)} MB (VmHWM ${mb(memory.hwm)} MB); Redis used_memory ${mb(redisBefore)} → ${mb(redisAfter)} MB (${((redisAfter - redisBefore) / 1024 / (COUNT / 2)).toFixed(1)} KB per run)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
const lastErr = server.lastLogLine();
if (lastErr)
  process.stdout.write(`  server's last log line: ${lastErr.slice(0, 300)}\n`);

agent.destroy();
await server.stop();
await intake.close();
admin.disconnect();
await redis.close();
rmSync(temp, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
