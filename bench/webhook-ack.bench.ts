/**
 * M1, webhook ACK overhead (docs benchmarks.md §9 M1): kiln's
 * `POST /webhooks/github` (its express app and real webhook route: size and
 * header checks, signature, delivery ledger, intake enqueue, 202) against a
 * bare `node:http` handler doing HMAC + timingSafeEqual + JSON.parse + one
 * raw BullMQ `Queue.add`, each in its own process on the same Redis, with a
 * ~25 KB push payload, a valid signature and a unique X-GitHub-Delivery per
 * request. Two figures:
 * - throughput: the harness times bursts of requests over a few keep-alive
 *   connections (time ratio = inverse throughput ratio; target ≤ 1.25);
 * - p99 at a fixed rate: kiln and bare alternate, a few seconds each.
 * No intake worker runs; Redis is emptied before each sample.
 *
 *   npm run bench:webhook   (M1_RATE=200 M1_SECONDS=10 M1_ROUNDS=3)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import examples from '@octokit/webhooks-examples' with { type: 'json' };
import { percentile } from './bench-stats.js';
import { runBenchmark } from './harness.js';
import { startTestRedis } from '../test/helpers/redis-server.js';
import { Redis } from 'ioredis';
import { postSignedDelivery } from './post-signed-delivery.js';

const SECRET = 'bench-secret';
const RATE = Number(process.env.M1_RATE ?? 200);
const SECONDS = Number(process.env.M1_SECONDS ?? 10);
const ROUNDS = Number(process.env.M1_ROUNDS ?? 3);
const BURST = 300;
const CONNECTIONS = 8;

function pushPayload(): Buffer {
  const all = examples as unknown as Array<{
    name: string;
    examples: Array<{ commits: unknown[] }>;
  }>;
  const push = all.find((item) => item.name === 'push')?.examples[0];
  if (!push) throw new Error('no push example in @octokit/webhooks-examples');
  const payload = structuredClone(push);
  const commit = payload.commits[0] ?? { id: '0'.repeat(40), message: 'x' };
  while (JSON.stringify(payload).length < 25_000)
    payload.commits.push(structuredClone(commit));
  return Buffer.from(JSON.stringify(payload));
}

const body = pushPayload();
const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

async function post(port: number): Promise<number> {
  const answer = await postSignedDelivery(port, agent, { body, signature });
  if (answer.status !== 202)
    throw new Error(`status ${answer.status} from port ${port}`);
  return answer.ms;
}

async function burst(port: number): Promise<void> {
  await flush();
  let sent = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (sent < BURST) {
        sent += 1;
        await post(port);
      }
    }),
  );
}

async function fixedRate(port: number): Promise<number[]> {
  await flush();
  const latencies: Promise<number>[] = [];
  const start = performance.now();
  const total = RATE * SECONDS;
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    latencies.push(post(port));
  }
  return Promise.all(latencies);
}

function startSide(mode: 'kiln' | 'bare', url: string) {
  const script = fileURLToPath(
    new URL('./webhook-server-child.ts', import.meta.url),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', script, mode],
    {
      env: { ...process.env, REDIS_URL: url, WEBHOOK_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /port (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${mode} exited ${code}`)));
  });
  return { child, port };
}

const redis = await startTestRedis();
const admin = new Redis(redis.url);
async function flush(): Promise<void> {
  await admin.flushall('ASYNC');
}
const kiln = startSide('kiln', redis.url);
const bare = startSide('bare', redis.url);
const [kilnPort, barePort] = await Promise.all([kiln.port, bare.port]);

const result = await runBenchmark({
  id: 'M1',
  name: 'webhook-ack-throughput',
  subject: () => burst(kilnPort),
  baseline: () => burst(barePort),
  repetitions: 8,
  targetRatio: 1.25,
  details: {
    payloadBytes: body.length,
    burst: BURST,
    connections: CONNECTIONS,
  },
});
const reqs = (ms: number) => ((BURST / ms) * 1000).toFixed(0);
process.stdout.write(
  `M1 throughput: kiln ${reqs(result.subject.median)} req/s, bare ${reqs(result.baseline.median)} req/s (${CONNECTIONS} connections)\n`,
);

const p99s = { kiln: [] as number[], bare: [] as number[] };
await fixedRate(barePort);
await fixedRate(kilnPort);
for (let round = 0; round < ROUNDS; round += 1) {
  p99s.bare.push(percentile(await fixedRate(barePort), 99));
  p99s.kiln.push(percentile(await fixedRate(kilnPort), 99));
}
const kilnP99 = percentile(p99s.kiln, 50);
const bareP99 = percentile(p99s.bare, 50);
process.stdout.write(
  `M1 p99 at ${RATE} req/s (${ROUNDS}×${SECONDS} s each, interleaved): kiln ${kilnP99.toFixed(2)} ms, bare ${bareP99.toFixed(2)} ms, ratio ${(kilnP99 / bareP99).toFixed(2)} (target ≤ 1.25, guard ≤ 100 ms); rounds kiln ${p99s.kiln.map((v) => v.toFixed(1)).join('/')} bare ${p99s.bare.map((v) => v.toFixed(1)).join('/')}\n`,
);
agent.destroy();
kiln.child.kill('SIGTERM');
bare.child.kill('SIGTERM');
admin.disconnect();
await redis.close();
