/**
 * M5, push → first container start (docs benchmarks.md §9 M5): a commit
 * pushed to a local bare origin, then a signed push delivery to a running
 * `kiln up` (server + worker, Docker runtime, busybox, warm image and
 * mirror, idle worker); timed from sending the delivery to Docker's `start`
 * event of the step's container. Baseline: `docker run` of the same image,
 * from spawn to its `start` event. Interleaved ABAB after a warm-up; the
 * samples are timed here (the push itself is outside the span on purpose)
 * and summarised with the harness's bootstrap CI.
 *
 *   npm run bench:push   (M5_PUSHES=10)
 */
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { requireImage } from './require-image.js';
import { bootstrapMedianRatio, median, percentile } from './bench-stats.js';
import {
  commitAll,
  createRepo,
  git,
  writeFiles,
} from '../test/helpers/git-repo.js';
import { freePort, startTestRedis } from '../test/helpers/redis-server.js';
import { pushPayload } from '../test/integration/intake/intake-fixture.js';

const PUSHES = Math.max(10, Number(process.env.M5_PUSHES ?? 10));
const IMAGE = 'kiln-test/busybox:1';
const SECRET = 'bench-secret';
const REPOSITORY = 'bench/push';
const CONFIG = `- step:
    name: first
    image: ${IMAGE}
    command: echo first-line
- trigger:
    name: on-push
    on: [push]
    branches: [main]
    run: first
`;

await requireImage(IMAGE);
const temp = mkdtempSync(join(tmpdir(), 'kiln-bench-m5-'));
const redis = await startTestRedis();
const work = createRepo({ 'kiln.yaml': CONFIG });
const bare = join(temp, 'origin.git');
execFileSync('git', ['init', '-q', '--bare', bare]);
git(work, 'push', '-q', bare, 'HEAD:refs/heads/main');
const port = await freePort();
const kiln = spawn(process.execPath, ['bin/kiln.js', 'up'], {
  env: {
    ...process.env,
    REDIS_URL: redis.url,
    KILN_DATA_DIR: join(temp, 'data'),
    KILN_WEBHOOK_SECRET: SECRET,
    KILN_ALLOW_LOCAL_REPOSITORIES: 'true',
    KILN_RUNTIME: 'docker',
    KILN_PORT: String(port),
    KILN_HOST: '127.0.0.1',
    KILN_LOG_LEVEL: 'warn',
    KILN_WORKER_ID: 'bench-m5',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  let out = '';
  kiln.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('kiln is listening')) resolve();
  });
  kiln.once('exit', (code) => reject(new Error(`kiln up exited ${code}`)));
});

// Container starts and deaths, as Docker reports them, by container name.
const docker = new Dockerode();
const waiters = new Map<string, (at: number) => void>();
const events = (await docker.getEvents({
  filters: { type: ['container'], event: ['start', 'die'] },
})) as NodeJS.ReadableStream;
let pending = '';
events.on('data', (chunk: Buffer) => {
  pending += chunk.toString();
  let newline = pending.indexOf('\n');
  while (newline >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    newline = pending.indexOf('\n');
    const event = JSON.parse(line) as {
      status?: string;
      Actor?: { Attributes?: Record<string, string> };
    };
    const attributes = event.Actor?.Attributes ?? {};
    const key = attributes['kiln.run']
      ? `kiln:${event.status}`
      : `${attributes.name}:${event.status}`;
    waiters.get(key)?.(performance.now());
  }
});
function next(key: string): Promise<number> {
  return new Promise((resolve) =>
    waiters.set(key, (at) => {
      waiters.delete(key);
      resolve(at);
    }),
  );
}

let round = 0;
async function pushOnce(): Promise<number> {
  round += 1;
  writeFiles(work, { 'round.txt': `${round}\n` });
  const after = commitAll(work, `round ${round}`);
  const before = git(work, 'rev-parse', 'HEAD~1');
  git(work, 'push', '-q', bare, 'HEAD:refs/heads/main');
  const body = Buffer.from(
    JSON.stringify(
      pushPayload({
        bareDir: bare,
        branch: 'main',
        before,
        after,
        repository: REPOSITORY,
      }),
    ),
  );
  const started = next('kiln:start');
  const died = next('kiln:die');
  const t0 = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
    body,
  });
  if (response.status !== 202) throw new Error(`delivery: ${response.status}`);
  const span = (await started) - t0;
  await died;
  return span;
}

async function dockerRunOnce(): Promise<number> {
  const name = `kiln-bench-m5-${randomUUID().slice(0, 8)}`;
  const started = next(`${name}:start`);
  const t0 = performance.now();
  const child = spawn(
    'docker',
    [
      'run',
      '--rm',
      '--name',
      name,
      '--network',
      'none',
      IMAGE,
      'echo',
      'first-line',
    ],
    {
      stdio: 'ignore',
    },
  );
  const span = (await started) - t0;
  await new Promise((resolve) => child.once('exit', resolve));
  return span;
}

const subject: number[] = [];
const baseline: number[] = [];
await dockerRunOnce();
await pushOnce();
for (let i = 0; i < PUSHES; i += 1) {
  baseline.push(await dockerRunOnce());
  subject.push(await pushOnce());
}
const interval = bootstrapMedianRatio(subject, baseline);
process.stdout.write(
  `M5 push-to-start: kiln p50 ${median(subject).toFixed(0)} ms (p95 ${percentile(subject, 95).toFixed(0)}), ` +
    `docker run p50 ${median(baseline).toFixed(0)} ms (p95 ${percentile(baseline, 95).toFixed(0)}), ` +
    `ratio ${interval.ratio.toFixed(2)} (95% CI ${interval.low.toFixed(2)}–${interval.high.toFixed(2)}), target ≤ 1.5 (≤ 2.5 acceptable), ${PUSHES} pushes\n`,
);
(events as unknown as { destroy(): void }).destroy();
kiln.kill('SIGTERM');
await new Promise((resolve) => kiln.once('exit', resolve));
await redis.close();
rmSync(temp, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
