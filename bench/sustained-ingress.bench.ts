/**
 * L2, sustained ingress (reliability plan §8.4 L2; docs benchmarks.md "L2
 * sustained-ingress"): L2_RATE signed push deliveries a second for
 * L2_SECONDS into one real `kiln server` child process (HTTP routes and
 * intake worker) on a private redis-server, reading a real local git
 * origin. Every delivery is a distinct push (one of 100 branches, its own
 * `pushed_at`) that starts a run; no worker runs, so the runs' steps stay
 * queued. One new connection per delivery, open-loop at a fixed rate.
 *
 * The server's event-loop lag comes from its own /metrics
 * (`kiln_process_nodejs_eventloop_lag_p99_seconds` and `_max_`, prom-client's
 * `monitorEventLoopDelay` histogram, reset at every scrape), scraped every
 * L2_SCRAPE_SECONDS; those figures include prom-client's 10 ms sampling
 * interval, so the lag is the figure minus 10 ms (an idle server reads
 * ≈ 10 ms). RSS (`/proc/<pid>/status`) and open sockets (the `socket:`
 * links in `/proc/<pid>/fd`) are sampled at the same times; growth is the
 * mean of the last minute against the mean of the first minute (or of the
 * last and first quarter when shorter). The intake queue's backlog is
 * printed too: the intake may fall behind without the server slowing down.
 *
 * Full size (the plan): L2_SECONDS=1800.
 *
 *   npm run build && npm run bench:ingress   (L2_RATE=20 L2_SECONDS=180 L2_SCRAPE_SECONDS=5)
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { INTAKE_QUEUE } from '../src/intake/intake-queue.js';
import { createRedisKeys } from '../src/redis/redis-keys.js';
import { createRepo, git } from '../test/helpers/git-repo.js';
import { freePort, startTestRedis } from '../test/helpers/redis-server.js';
import { pushPayload } from '../test/integration/intake/intake-fixture.js';
import { percentile } from './bench-stats.js';
import { spawnKilnServer } from './spawn-kiln-server.js';
import { procMemory } from './spawn-kiln-worker.js';

const RATE = Number(process.env.L2_RATE ?? 20);
const SECONDS = Number(process.env.L2_SECONDS ?? 180);
const SCRAPE_SECONDS = Number(process.env.L2_SCRAPE_SECONDS ?? 5);
const BRANCHES = 100;
const SECRET = 'bench-secret';
const REPOSITORY = 'bench/ingress';
/** prom-client's monitorEventLoopDelay resolution, in every figure. */
const SAMPLING_MS = 10;
const CONFIG = `- step:
    name: first
    image: busybox
    command: echo first
- trigger:
    name: on-push
    on: [push]
    run: first
`;

const temp = mkdtempSync(join(tmpdir(), 'kiln-bench-l2-'));
const work = createRepo({ 'kiln.yaml': CONFIG });
const bare = join(temp, 'origin.git');
execFileSync('git', ['init', '-q', '--bare', bare]);
const commit = git(work, 'rev-parse', 'HEAD');
for (let b = 0; b < BRANCHES; b += 1)
  git(work, 'push', '-q', bare, `HEAD:refs/heads/b${b}`);
const total = RATE * SECONDS;
const firstPushedAt = Math.floor(Date.now() / 1000) - total;

function delivery(i: number): { body: Buffer; signature: string } {
  const body = Buffer.from(
    JSON.stringify(
      pushPayload({
        bareDir: bare,
        branch: `b${i % BRANCHES}`,
        before: commit,
        after: commit,
        repository: REPOSITORY,
        pushedAt: firstPushedAt + i,
      }),
    ),
  );
  return {
    body,
    signature: `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
  };
}

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
function post(
  port: number,
  i: number,
): Promise<{ status: number; ms: number }> {
  const { body, signature } = delivery(i);
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
          }),
        );
      },
    );
    req.on('error', () =>
      resolve({ status: 0, ms: performance.now() - start }),
    );
    req.end(body);
  });
}

function openSockets(pid: number): number {
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:'))
        sockets += 1;
    } catch {
      // closed between the listing and the read
    }
  }
  return sockets;
}

interface Scrape {
  at: number;
  lagP99: number;
  lagMax: number;
  rss: number;
  sockets: number;
  backlog: number;
}

function gauge(text: string, name: string): number {
  const match = new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text);
  return match ? Number(match[1]) * 1000 : NaN;
}

const redis = await startTestRedis();
const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
const intake = new Queue(INTAKE_QUEUE, {
  connection: admin,
  prefix: createRedisKeys().bullPrefix,
});
const server = await spawnKilnServer({
  redisUrl: redis.url,
  dataDir: join(temp, 'data'),
  port: await freePort(),
  secret: SECRET,
});

async function scrape(): Promise<Scrape> {
  const text = await (
    await fetch(`http://127.0.0.1:${server.port}/metrics`)
  ).text();
  const counts = await intake.getJobCounts('waiting', 'active', 'delayed');
  return {
    at: performance.now(),
    lagP99: gauge(text, 'kiln_process_nodejs_eventloop_lag_p99_seconds'),
    lagMax: gauge(text, 'kiln_process_nodejs_eventloop_lag_max_seconds'),
    rss: procMemory(server.pid).rss,
    sockets: openSockets(server.pid),
    backlog:
      (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0),
  };
}

// Idle: one scrape to reset the histogram, one after a quiet window.
await scrape();
await sleep(SCRAPE_SECONDS * 1000);
const idle = await scrape();

const scrapes: Scrape[] = [];
const answers: Promise<{ status: number; ms: number }>[] = [];
const start = performance.now();
let nextScrape = start + SCRAPE_SECONDS * 1000;
for (let i = 0; i < total; i += 1) {
  const due = start + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  answers.push(post(server.port, i));
  if (performance.now() >= nextScrape) {
    nextScrape += SCRAPE_SECONDS * 1000;
    void scrape().then((item) => scrapes.push(item));
  }
}
const results = await Promise.all(answers);
const sentSeconds = (performance.now() - start) / 1000;
await sleep(100);
scrapes.sort((a, b) => a.at - b.at);

const window = Math.max(
  1,
  Math.min(Math.round(60 / SCRAPE_SECONDS), Math.floor(scrapes.length / 4)),
);
const mean = (items: Scrape[], pick: (s: Scrape) => number) =>
  items.reduce((sum, item) => sum + pick(item), 0) / Math.max(1, items.length);
const head = scrapes.slice(0, window);
const tail = scrapes.slice(-window);
const windowSeconds = window * SCRAPE_SECONDS;
const minutes = (tail.at(-1)!.at - head[0]!.at) / 60_000;
const lagP99 = scrapes.map((s) => s.lagP99 - SAMPLING_MS);
const worstP99 = Math.max(...lagP99);
const rssGrowth = mean(tail, (s) => s.rss) - mean(head, (s) => s.rss);
const socketGrowth =
  mean(tail, (s) => s.sockets) - mean(head, (s) => s.sockets);
const lastBacklog = tail.at(-1)?.backlog ?? 0;
const notOk = results.filter((r) => r.status < 200 || r.status >= 300).length;
const ms = results.map((r) => r.ms);
const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const lines = [
  `L2 sustained-ingress: ${results.length} push deliveries at ${RATE}/s in ${sentSeconds.toFixed(0)} s into one kiln server (each a distinct push that starts a run); ${scrapes.length} scrapes of /metrics, one every ${SCRAPE_SECONDS} s`,
  `  answers not 2xx: ${notOk}; ack p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(0)} ms`,
  `  event-loop lag (figure − ${SAMPLING_MS} ms sampling): idle p99 ${(idle.lagP99 - SAMPLING_MS).toFixed(1)} ms; under load, p99 per ${SCRAPE_SECONDS} s window: median ${percentile(lagP99, 50).toFixed(1)} ms, worst ${worstP99.toFixed(1)} ms (< 50 ${verdict(worstP99 < 50)}); worst max ${(Math.max(...scrapes.map((s) => s.lagMax)) - SAMPLING_MS).toFixed(0)} ms`,
  `  RSS: idle ${mb(idle.rss)} MB; first ${windowSeconds} s ${mb(mean(head, (s) => s.rss))} MB, last ${windowSeconds} s ${mb(mean(tail, (s) => s.rss))} MB (${rssGrowth >= 0 ? '+' : ''}${mb(rssGrowth)} MB over ${minutes.toFixed(1)} min, ${mb(rssGrowth / Math.max(minutes, 1e-9))} MB/min); max ${mb(Math.max(...scrapes.map((s) => s.rss)))} MB`,
  `  open sockets: idle ${idle.sockets}; first ${windowSeconds} s ${mean(head, (s) => s.sockets).toFixed(1)}, last ${windowSeconds} s ${mean(tail, (s) => s.sockets).toFixed(1)} (${socketGrowth >= 0 ? '+' : ''}${socketGrowth.toFixed(1)}); max ${Math.max(...scrapes.map((s) => s.sockets))}`,
  `  intake backlog (waiting + active): ${head[0]?.backlog ?? 0} at the first scrape, ${lastBacklog} at the last; the intake took ≈ ${((results.length - lastBacklog) / sentSeconds).toFixed(1)} deliveries/s of the ${RATE}/s sent${lastBacklog > RATE * SCRAPE_SECONDS ? ' (it fell behind)' : ''}`,
];
process.stdout.write(`${lines.join('\n')}\n`);

agent.destroy();
await server.stop();
await intake.close();
admin.disconnect();
await redis.close();
rmSync(temp, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
