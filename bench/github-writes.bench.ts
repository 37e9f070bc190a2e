/**
 * M8, GitHub write amplification (docs benchmarks.md §9 M8): a burst of
 * P = 20 pushes to one pull request, each running K = 3 pipelines of N = 20
 * steps, against the GitHub stand-in (test/helpers/github-stand-in.ts) on a
 * private redis-server. Runs are created and moved through the control
 * plane (`createRun`, each node claimed and finished with `applyNodeEvent`,
 * as a worker reports it), and the reporter follows the run event stream;
 * a third of the pushes are superseded by the next one shortly after they
 * start. Baseline: the minimum number of content-creating requests, per
 * surviving commit 1 pending + 1 final status per context and 1
 * create-or-update of each pipeline's PR comment. Target: issued ÷ minimum
 * ≤ 1.1, never more than 80 writes in any 60 s window, and the last final
 * status ≤ 3 × a raw round trip to the stand-in after the last run ends
 * (also printed: a round trip through kiln's own GitHub client, and per
 * surviving commit the time from its runs' end to its last final status).
 *
 *   npx tsx bench/github-writes.bench.ts   (or npm run bench:github)
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pino from 'pino';
import { applyNodeEvent } from '../src/control/apply-node-event.js';
import { applyRunEvent } from '../src/control/apply-run-event.js';
import type { ControlDeps } from '../src/control/control-deps.js';
import { createRun } from '../src/control/create-run.js';
import { loadRunPlan } from '../src/control/load-run-plan.js';
import type { RunRecord } from '../src/model/run.js';
import { createGithubClient } from '../src/forge/github/create-github-client.js';
import { CLAIMABLE_RUN_STATUSES } from '../src/orchestrator/run-machine.js';
import { createStepQueue } from '../src/queue/step-jobs.js';
import { createReporter } from '../src/reporter/start-reporter.js';
import { createStores } from '../src/store/index.js';
import { startGithubStandIn } from '../test/helpers/github-stand-in.js';
import { startTestRedis } from '../test/helpers/redis-server.js';

const PUSHES = 20;
const PIPELINES = ['train-a', 'train-b', 'train-c'];
const STEPS = 20;
const STEP_MS = 100;
const REPO = 'acme/models';
const PR = 12;
const TOKEN = 'ghp_bench';

/** N steps; each pipeline runs all of them (no edges: all queued at once). */
const CONFIG = [
  ...Array.from(
    { length: STEPS },
    (_, index) => `- step:
    name: step-${index}
    image: busybox
    command: echo ${index}
    parameters:
      - name: learning_rate
        type: float
        default: 0.1
`,
  ),
  ...PIPELINES.map(
    (name) => `- pipeline:
    name: ${name}
    nodes:
${Array.from(
  { length: STEPS },
  (_, index) => `      - name: step-${index}
        type: execution
        step: step-${index}
`,
).join('')}    edges: []
`,
  ),
].join('');

function sha(seed: number): string {
  return createHash('sha1').update(`bench-${seed}`).digest('hex');
}

async function main(): Promise<void> {
  const server = await startTestRedis();
  const github = await startGithubStandIn({ tokens: [TOKEN] });
  const redis = new Redis(server.url);
  const bull = new Redis(server.url, { maxRetriesPerRequest: null });
  const prefix = 'bench';
  const stores = createStores(redis, { prefix });
  const logger = pino({ level: 'silent' });
  // As the engine builds it: the reporter's write budget paces writes.
  const client = createGithubClient({
    settings: { githubApiUrl: github.url, githubToken: TOKEN },
    logger,
    minWriteIntervalMs: 0,
  });
  const steps = createStepQueue(bull, stores.keys.bullPrefix);
  const control: ControlDeps = {
    runs: stores.runs,
    executions: stores.executions,
    configs: stores.configs,
    steps,
    logger,
  };
  // Production settings: 1 s debounce, ≥ 1 s between writes.
  const reporter = createReporter({
    redis,
    bullConnection: bull,
    keys: stores.keys,
    runs: stores.runs,
    configs: stores.configs,
    executions: stores.executions,
    logger,
    settings: { publicUrl: 'https://kiln.example.com' },
    github: client,
  });
  reporter.startReportWorker();
  try {
    const surviving: string[] = [];
    let lastEnd = 0;
    const endedAt = new Map<string, number>();
    for (let push = 0; push < PUSHES; push += 1) {
      const commit = sha(push);
      const superseded = push % 3 === 1 && push < PUSHES - 1;
      const runs: RunRecord[] = [];
      for (const name of PIPELINES) {
        runs.push(
          await createRun(control, {
            repository: REPO,
            source: {
              id: `github.com/${REPO}`,
              url: `https://github.com/${REPO}.git`,
            },
            commit,
            ref: `refs/pull/${PR}/head`,
            name,
            configText: CONFIG,
            configFile: 'kiln.yaml',
            trigger: {
              event: 'pull_request',
              pullRequest: PR,
              baseRef: 'main',
              baseSha: sha(1000),
              fork: false,
            },
          }),
        );
      }
      if (superseded) {
        await sleep(150);
        for (const run of runs) {
          await applyRunEvent(control, {
            runId: run.id,
            event: {
              type: 'superseded',
              reason: `superseded by ${sha(push + 1).slice(0, 7)}`,
              by: sha(push + 1),
            },
          });
        }
      } else {
        await Promise.all(runs.map((run) => playRun(run)));
        surviving.push(commit);
        lastEnd = Date.now();
        endedAt.set(commit, lastEnd);
      }
    }

    const last = surviving.at(-1) ?? '';
    const lastFinalAt = await waitFor(() => {
      const finals = PIPELINES.map((name) =>
        github
          .statusesFor(REPO, last, `kiln/${name}`)
          .find((item) => item.state !== 'pending'),
      );
      return finals.every(Boolean);
    });
    await waitFor(() =>
      PIPELINES.every((name) =>
        github.comments.some(
          (item) =>
            item.body.includes(`pipeline=${name} `) &&
            item.body.includes(last.slice(0, 7)),
        ),
      ),
    );
    await sleep(3000);

    const writes = github
      .contentWrites()
      .filter((item) => item.path.startsWith(`/repos/${REPO}/`)).length;
    const minimum = surviving.length * PIPELINES.length * 3;
    const ratio = writes / minimum;
    const perMinute = github.maxWritesPerMinute();
    // On a stand-in of their own, so the probes count against no limit.
    const probe = await startGithubStandIn({ tokens: [TOKEN] });
    const rawRoundTrip = await measureRoundTrip(probe.url);
    const clientRoundTrip = await measureClientRoundTrip(probe.url);
    await probe.close();
    const latency = lastFinalAt - lastEnd;
    // Every surviving commit: from its runs' end to its last final status.
    const perCommit = surviving
      .map((commit) => {
        const times = PIPELINES.map(
          (name) =>
            github.requests.find(
              (item) =>
                item.path === `/repos/${REPO}/statuses/${commit}` &&
                (item.body as { context?: string; state?: string }).context ===
                  `kiln/${name}` &&
                (item.body as { state?: string }).state !== 'pending' &&
                item.status === 201,
            )?.time ?? Number.NaN,
        );
        return Math.max(...times) - (endedAt.get(commit) ?? 0);
      })
      .sort((a, b) => a - b);
    const result = {
      id: 'M8',
      name: 'github-writes',
      pushes: PUSHES,
      surviving: surviving.length,
      contexts: PIPELINES.length,
      steps: STEPS,
      writes,
      minimum,
      ratio: Number(ratio.toFixed(3)),
      maxWritesPerMinute: perMinute,
      statuses: github.statuses.length,
      comments: github.comments.length,
      commentEdits: github.comments.reduce((sum, item) => sum + item.edits, 0),
      latencyMs: latency,
      commitLatencyMedianMs: perCommit[Math.floor(perCommit.length / 2)],
      commitLatencyMaxMs: perCommit.at(-1),
      rawRoundTripMs: Number(rawRoundTrip.toFixed(2)),
      clientRoundTripMs: Number(clientRoundTrip.toFixed(2)),
      invalidRequests: github.invalid.length,
      writesPass:
        ratio <= 1.1 && perMinute <= 80 && github.invalid.length === 0,
      latencyPass: latency <= 3 * rawRoundTrip,
    };
    process.stdout.write(
      `M8 github-writes: ${writes} content-creating requests for a minimum of ${minimum} → ratio ${result.ratio} (target ≤ 1.1); at most ${perMinute} in any 60 s (limit 80); last final status ${latency} ms after the run ended (raw round trip ${result.rawRoundTripMs} ms, through kiln's GitHub client ${result.clientRoundTripMs} ms); per commit, runs' end → last final status: median ${result.commitLatencyMedianMs} ms, max ${result.commitLatencyMaxMs} ms; writes ${result.writesPass ? 'PASS' : 'FAIL'}, latency ${result.latencyPass ? 'PASS' : 'FAIL'} (target ≤ ${(3 * rawRoundTrip).toFixed(1)} ms)\n`,
    );
    const out = join(
      dirname(fileURLToPath(import.meta.url)),
      '..',
      '.bench-out',
      'results.jsonl',
    );
    mkdirSync(dirname(out), { recursive: true });
    appendFileSync(
      out,
      `${JSON.stringify({ ...result, time: new Date().toISOString() })}\n`,
    );
    github.assertNoInvalidRequests();
  } finally {
    await reporter.close();
    await steps.close();
    redis.disconnect();
    bull.disconnect();
    await github.close();
    await server.close();
  }

  /** A status write through the reporter's Octokit (median of 21). */
  async function measureClientRoundTrip(url: string): Promise<number> {
    const probeClient = createGithubClient({
      settings: { githubApiUrl: url, githubToken: TOKEN },
      logger,
      minWriteIntervalMs: 0,
    });
    const octokit = await probeClient!.forRepository('acme/warmup');
    const times: number[] = [];
    for (let index = 0; index < 21; index += 1) {
      const start = performance.now();
      await octokit.rest.repos.createCommitStatus({
        owner: 'acme',
        repo: 'warmup',
        sha: sha(9998),
        state: 'success',
        context: `client-${index}`,
      });
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return times[10] ?? 0;
  }

  /** Each node in turn: claimed by a worker, then finished. */
  async function playRun(run: RunRecord): Promise<void> {
    const { graph } = await loadRunPlan(stores.configs, run);
    for (const queued of run.nodes) {
      const claim = await applyNodeEvent(control, {
        run,
        graph,
        from: queued,
        event: {
          type: 'claim',
          worker: 'bench',
          generation: queued.generation,
          phase: 'running',
        },
        runIn: CLAIMABLE_RUN_STATUSES,
        execution: (id, attempt) => {
          const now = new Date().toISOString();
          return {
            id,
            repository: run.repository,
            commit: run.commit,
            step: queued.step,
            runId: run.id,
            node: queued.name,
            image: 'busybox',
            imageDigest: null,
            command: [`echo ${queued.index}`],
            parameters: { learning_rate: 0.1 },
            inputs: [],
            outputs: [],
            metrics: {},
            status: 'started',
            runtime: 'docker',
            host: 'bench',
            attempt,
            createdAt: now,
            startedAt: now,
          };
        },
      });
      if (!claim.applied) throw new Error(`claim refused: ${claim.why}`);
      await sleep(STEP_MS);
      const end = await applyNodeEvent(control, {
        run,
        graph,
        from: claim.node,
        event: {
          type: 'finished',
          attempt: claim.node.attempt,
          outcome: 'complete',
          message: 'exited with code 0',
        },
        close: {
          endReason: { kind: 'exited', exitCode: 0 },
          metrics: { accuracy: 0.9 },
          endedAt: new Date().toISOString(),
        },
      });
      if (!end.applied) throw new Error(`end refused: ${end.why}`);
    }
  }
}

async function measureRoundTrip(url: string): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < 21; index += 1) {
    const start = performance.now();
    await fetch(`${url}/repos/acme/warmup/statuses/${sha(9999)}`, {
      method: 'POST',
      headers: {
        authorization: `token ${TOKEN}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ state: 'success', context: `warmup-${index}` }),
    });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[10] ?? 0;
}

async function waitFor(
  check: () => boolean,
  timeoutMs = 600_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error('timed out waiting for the reports');
    await sleep(20);
  }
  return Date.now();
}

await main();
