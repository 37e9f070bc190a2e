/**
 * `npm run demo`: kiln's main job, end to end, on this machine. Starts
 * kiln (`kiln up`: server, worker, a private redis-server), pushes the iris
 * example to a bare git repository whose post-receive hook sends kiln the
 * push, waits for that run, then pushes a branch that changes a parameter
 * and sends the `pull_request` delivery GitHub would send, pushes to the
 * branch once more (`synchronize`) — and prints the PR comment kiln
 * renders, comparing the branch with main.
 *
 *   npm run demo            keeps kiln running at the end (Ctrl-C stops it)
 *   npm run demo -- --ci    exits 0 only when the three runs completed and
 *                           the comparison was rendered; stops everything
 *
 * With GitHub configured (KILN_GITHUB_API_URL with KILN_GITHUB_TOKEN, or an
 * App), the runs also report there, as any repository's do
 * (KILN_DEMO_REPOSITORY=owner/name picks the repo), and the demo waits until
 * GitHub has every commit's final status and the PR comment, at most
 * KILN_DEMO_REPORT_TIMEOUT_MS (60 s): in --ci, a report that did not arrive
 * fails the demo, saying which.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { postDelivery } from '../src/forge/github/post-delivery.js';
import { connectRedis, ensurePrivateRedis } from '../src/redis/index.js';
import { DockerRuntime } from '../src/runtime/docker/docker-runtime.js';
import { createStores } from '../src/store/index.js';
import {
  freePort,
  startKiln,
  tail,
  waitForRun,
  type KilnProcess,
} from './demo-kiln.js';
import {
  buildPullRequestPayload,
  commitParameterChange,
  createDemoRepository,
  headOf,
  pushBranch,
} from './demo-repository.js';
import {
  probeGithub,
  renderComment,
  showRun,
  waitForDelivery,
} from './demo-report.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ci = process.argv.includes('--ci');
const image = 'kiln-examples/python-sklearn:1';
const repositoryName = process.env.KILN_DEMO_REPOSITORY ?? 'kiln-demo/iris';
const runTimeoutMs = 10 * 60_000;
const change = { branch: 'tune-c', parameter: 'C', value: '0.01' };
const secondChange = { ...change, value: '0.1' };
const githubConfigured = Boolean(
  process.env.KILN_GITHUB_TOKEN ||
  (process.env.KILN_GITHUB_APP_ID && process.env.KILN_GITHUB_PRIVATE_KEY),
);
const reportTimeoutMs = Number(
  process.env.KILN_DEMO_REPORT_TIMEOUT_MS ?? 60_000,
);

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (line: string) => say(`\n== ${line}`);

interface Started {
  dir?: string;
  kiln?: KilnProcess;
  redis?: Redis;
  stopRedis?: () => Promise<void>;
  workerId: string;
  runtime: 'docker' | 'local';
}

const started: Started = {
  workerId: `kiln-demo-${randomBytes(4).toString('hex')}`,
  runtime: 'docker',
};

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await started.kiln?.stop().catch(() => undefined);
    if (started.runtime === 'docker') {
      // Containers a stopped worker handed back would wait for it forever.
      await new DockerRuntime({ workerId: started.workerId })
        .reapOrphans(new Set())
        .catch(() => 0);
    }
    started.redis?.disconnect();
    await started.stopRedis?.().catch(() => undefined);
    if (started.dir) await rm(started.dir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: a terminal's Ctrl-C may arrive twice (directly and
  // relayed by tsx); the second must not cut the cleanup short.
  process.on(signal, () => {
    if (cleaning) return;
    say(`\n${signal}: stopping what the demo started…`);
    void cleanup().finally(() => process.exit(130));
  });
}

function checkMachine(): void {
  for (const command of ['git', 'redis-server']) {
    const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command]);
    if (found.status !== 0) {
      throw new Error(
        `${command} is not installed: run ./scripts/demo.sh (or scripts/setup-machine.sh)`,
      );
    }
  }
  const docker = spawnSync(
    'docker',
    ['version', '--format', '{{.Server.Version}}'],
    {
      timeout: 15_000,
    },
  );
  if (docker.status !== 0) {
    started.runtime = 'local';
    say(
      'note: no Docker engine answers, so the steps run as local processes (no container isolation).\n' +
        '      They need python3 with scikit-learn on this machine; start dockerd to use containers.',
    );
    return;
  }
  const found = spawnSync('docker', ['image', 'inspect', image], {
    stdio: 'ignore',
  });
  if (found.status !== 0) {
    throw new Error(
      `image ${image} is missing: run scripts/build-test-images.sh`,
    );
  }
}

async function main(): Promise<number> {
  checkMachine();
  const dir = await mkdtemp(join(tmpdir(), 'kiln-demo-'));
  started.dir = dir;
  const dataDir = join(dir, 'data');
  const secret = randomBytes(32).toString('hex');
  const port = Number(process.env.KILN_DEMO_PORT ?? (await freePort()));

  step(`starting kiln (data in ${dataDir}, runtime ${started.runtime})`);
  if (githubConfigured) {
    // The demo's commits exist only on this machine: GitHub refuses a
    // status for a commit it does not have (422 "No commit found for SHA").
    say(
      `  reporting to ${process.env.KILN_GITHUB_API_URL ?? 'https://api.github.com'} as ${repositoryName}: its commits are made here, so only a recording server (or a GitHub that has them) accepts the statuses, and the comment goes to that repository's pull request #1`,
    );
  }
  const redis = await ensurePrivateRedis({ dataDir });
  started.stopRedis = redis.stop;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_DATA_DIR: dataDir,
    KILN_HOST: '127.0.0.1',
    KILN_PORT: String(port),
    KILN_PUBLIC_URL: `http://localhost:${port}`,
    KILN_WEBHOOK_SECRET: secret,
    KILN_ALLOW_LOCAL_REPOSITORIES: 'true',
    // The demo's kiln listens on loopback only: let its pages be read
    // without a token (actions still need one).
    KILN_PUBLIC_READ: 'true',
    KILN_RUNTIME: started.runtime,
    KILN_WORKER_ID: started.workerId,
    KILN_LOG_LEVEL: process.env.KILN_LOG_LEVEL ?? 'info',
  };
  delete env.REDIS_URL;
  const kiln = await startKiln({
    root,
    env,
    port,
    logFile: join(dir, 'kiln.log'),
  });
  started.kiln = kiln;
  say(`kiln is up: ${kiln.url} (log: ${kiln.logFile})`);
  const client = connectRedis(redis.url, { role: 'producer' });
  started.redis = client;
  const stores = createStores(client, { prefix: 'kiln' });

  step(
    `pushing the iris example to a git server with kiln's post-receive hook`,
  );
  const repository = await createDemoRepository({
    dir,
    fullName: repositoryName,
    example: join(root, 'pipelines', 'examples', 'iris'),
    hooksDir: join(root, 'webhooks'),
    webhookUrl: `${kiln.url}/webhooks/github`,
    webhookSecret: secret,
  });
  for (const line of await pushBranch(repository, 'main'))
    say(`  hook: ${line}`);
  const mainRun = await waitForRun({
    runs: stores.runs,
    repository: repository.fullName,
    ref: 'refs/heads/main',
    known: new Set(),
    timeoutMs: runTimeoutMs,
    kiln,
    print: say,
  });
  await showRun(stores, mainRun, kiln);

  step(
    `a pull request: branch ${change.branch} sets ${change.parameter}=${change.value}`,
  );
  const baseSha = await headOf(repository, 'main');
  const prRun = await pushPullRequest(change, 'opened', new Set());
  await showRun(stores, prRun, kiln);

  step(
    `another push to the pull request: ${secondChange.parameter}=${secondChange.value} (kiln edits its comment)`,
  );
  const prRun2 = await pushPullRequest(
    secondChange,
    'synchronize',
    new Set([prRun.id]),
  );
  await showRun(stores, prRun2, kiln);

  async function pushPullRequest(
    edit: typeof change,
    action: 'opened' | 'synchronize',
    known: ReadonlySet<string>,
  ) {
    await commitParameterChange(repository, edit);
    for (const line of await pushBranch(repository, edit.branch))
      say(`  hook: ${line}`);
    const headSha = await headOf(repository, edit.branch);
    const answer = await postDelivery({
      url: `${kiln.url}/webhooks/github`,
      secret,
      event: 'pull_request',
      payload: buildPullRequestPayload({
        repository,
        action,
        number: 1,
        title: `Try ${change.parameter}=${change.value}`,
        headBranch: edit.branch,
        headSha,
        baseBranch: 'main',
        baseSha,
        sender: 'demo',
      }),
    });
    say(
      `  pull_request ${action} delivery ${answer.deliveryId}: HTTP ${answer.status} ${answer.body}`,
    );
    if (answer.status !== 202)
      throw new Error('kiln did not queue the pull_request delivery');
    return waitForRun({
      runs: stores.runs,
      repository: repository.fullName,
      ref: 'refs/pull/1/head',
      known,
      timeoutMs: runTimeoutMs,
      kiln,
      print: say,
    });
  }

  step('the pull request comment kiln posts (compared with main)');
  const body = await renderComment({
    stores,
    redis: client,
    run: prRun2,
    baseSha,
    kiln,
  });
  say(body);

  const runs = [mainRun, prRun, prRun2];
  const ok =
    runs.every((run) => run.status === 'complete') &&
    body.includes('| metric |');
  step(
    ok
      ? 'done: the three runs completed and the comparison is above'
      : 'the demo did not complete',
  );
  if (!ok) {
    say(await tail(kiln.logFile));
    return 1;
  }
  if (githubConfigured) {
    step(
      `waiting until GitHub has the final statuses and the PR comment (at most ${Math.round(reportTimeoutMs / 1000)} s)`,
    );
    const missing = await waitForDelivery({
      redis: client,
      stores,
      runs,
      timeoutMs: reportTimeoutMs,
    });
    if (missing.length > 0) {
      say(
        `GitHub (${process.env.KILN_GITHUB_API_URL ?? 'api.github.com'}) did not receive, within ${Math.round(reportTimeoutMs / 1000)} s:`,
      );
      for (const item of missing) say(`  - ${item}`);
      say(
        await probeGithub(
          process.env.KILN_GITHUB_API_URL ?? 'https://api.github.com',
        ),
      );
      // With --ci the log goes with the demo's temp dir: no path to give.
      say(ci ? "kiln's last log lines:" : `kiln's log (${kiln.logFile}):`);
      say(await tail(kiln.logFile));
      if (ci) return 1;
    } else {
      say(
        `  GitHub has the final status of each of the ${runs.length} commits and the PR comment`,
      );
    }
  } else if (process.env.KILN_GITHUB_API_URL) {
    say(
      'note: KILN_GITHUB_API_URL is set but neither KILN_GITHUB_TOKEN nor a GitHub App: nothing was posted',
    );
  }
  if (ci) return 0;
  say(
    `kiln keeps running: open ${kiln.url}/ to look around. Ctrl-C stops kiln, its Redis and removes ${dir}.`,
  );
  await kiln.exited;
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  process.stderr.write(
    `demo failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  if (started.kiln)
    process.stderr.write(`${await tail(started.kiln.logFile)}\n`);
} finally {
  await cleanup();
}
process.exit(code);
