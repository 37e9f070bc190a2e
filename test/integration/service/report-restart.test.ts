/**
 * Reports survive a kiln that is stopped hard in the middle of a burst: 20
 * pushes to one pull request, each running two pipelines (one of them
 * fails on odd pushes), a third of them superseded by the next push. The
 * runs move through the control plane in the test process, as workers
 * report them; a real `kiln server` (the reporter) posts to the GitHub
 * stand-in. After the 8th push GitHub slows down and kiln gets SIGTERM
 * and, half a second into its shutdown (still posting what is due),
 * SIGKILL; the burst goes on without it and a new `kiln server` starts at
 * the 14th push. Every surviving commit must end with its correct
 * final status, and each pipeline must have exactly one PR comment, showing
 * the last push.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyNodeEvent } from '../../../src/control/apply-node-event.js';
import { applyRunEvent } from '../../../src/control/apply-run-event.js';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import { createRun } from '../../../src/control/create-run.js';
import { loadRunPlan } from '../../../src/control/load-run-plan.js';
import type { RunRecord } from '../../../src/model/run.js';
import { CLAIMABLE_RUN_STATUSES } from '../../../src/orchestrator/run-machine.js';
import { createStepQueue } from '../../../src/queue/step-jobs.js';
import { createStores } from '../../../src/store/create-stores.js';
import {
  startGithubStandIn,
  type GithubStandIn,
} from '../../helpers/github-stand-in.js';
import { commitAll, createRepo, writeFiles } from '../../helpers/git-repo.js';
import {
  freePort,
  startTestRedis,
  type TestRedis,
} from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import { waitUntil } from '../reporter/reporter-fixture.js';

const KILN_BIN = resolve(import.meta.dirname, '../../../bin/kiln.js');
const REPOSITORY = 'acme/burst';
const TOKEN = 'ghp_burst';
const PR = 5;
const PUSHES = 20;
const KILL_AT = 8;
const RESTART_AT = 14;
const PIPELINES = ['train', 'evaluate'] as const;

const CONFIG = `- step:
    name: prepare
    image: busybox
    command: echo prepare
- step:
    name: fit
    image: busybox
    command: echo fit
- pipeline:
    name: train
    nodes:
      - name: prepare
        type: execution
        step: prepare
      - name: fit
        type: execution
        step: fit
    edges: []
- pipeline:
    name: evaluate
    nodes:
      - name: prepare
        type: execution
        step: prepare
      - name: fit
        type: execution
        step: fit
    edges: []
`;

interface Kiln {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

describe.skipIf(!haveRedis())('reports across a kiln killed mid-burst', () => {
  let redis: TestRedis;
  let github: GithubStandIn;
  let client: Redis;
  let bull: Redis;
  let control: ControlDeps;
  let repoDir: string;
  let dataDir: string;
  const kilns: Kiln[] = [];
  /** Surviving commit → the final state each pipeline must end with. */
  const expected = new Map<string, Record<string, string>>();
  let lastCommit = '';

  beforeAll(async () => {
    redis = await startTestRedis();
    github = await startGithubStandIn({ tokens: [TOKEN] });
    client = new Redis(redis.url);
    bull = new Redis(redis.url, { maxRetriesPerRequest: null });
    const stores = createStores(client, { prefix: 'kiln' });
    control = {
      runs: stores.runs,
      executions: stores.executions,
      configs: stores.configs,
      steps: createStepQueue(bull, stores.keys.bullPrefix),
      logger: pino({ level: 'silent' }),
    };
    repoDir = createRepo({ 'kiln.yaml': CONFIG }, 'kiln-burst-');
    dataDir = mkdtempSync(join(tmpdir(), 'kiln-burst-data-'));
  });
  afterAll(async () => {
    for (const kiln of kilns) {
      if (kiln.child.exitCode === null && kiln.child.signalCode === null)
        kiln.child.kill('SIGKILL');
      await kiln.exited;
    }
    await control?.steps.close();
    client?.disconnect();
    bull?.disconnect();
    await github?.close();
    await redis?.close();
    rmSync(repoDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startKiln(name: string): Promise<Kiln> {
    const port = await freePort();
    const child = spawn(process.execPath, [KILN_BIN, 'server'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        REDIS_URL: redis.url,
        KILN_DATA_DIR: join(dataDir, name),
        KILN_HOST: '127.0.0.1',
        KILN_PORT: String(port),
        KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
        KILN_GITHUB_API_URL: github.url,
        KILN_GITHUB_TOKEN: TOKEN,
        KILN_SHUTDOWN_GRACE_MS: '10000',
        KILN_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const kiln: Kiln = {
      child,
      output: () => output,
      exited: new Promise((done) => child.once('exit', (code) => done(code))),
    };
    kilns.push(kiln);
    await waitUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`kiln exited:\n${output}`);
        return output.includes('kiln is listening');
      },
      `kiln ${name} to listen`,
      60_000,
    );
    return kiln;
  }

  /** Both nodes claimed and ended; `fit` fails when `fail` is set. */
  async function playRun(run: RunRecord, fail: boolean): Promise<void> {
    const { graph } = await loadRunPlan(control.configs, run);
    for (const node of run.nodes) {
      const claim = await applyNodeEvent(control, {
        run,
        graph,
        from: node,
        event: {
          type: 'claim',
          worker: 'worker-1',
          generation: node.generation,
          phase: 'running',
        },
        runIn: CLAIMABLE_RUN_STATUSES,
      });
      if (!claim.applied) throw new Error(`claim: ${claim.why}`);
      await sleep(40);
      const failed = fail && node.name === 'fit';
      const end = await applyNodeEvent(control, {
        run,
        graph,
        from: claim.node,
        event: {
          type: 'finished',
          attempt: claim.node.attempt,
          outcome: failed ? 'error' : 'complete',
          message: failed ? 'exited with code 1' : 'exited with code 0',
        },
        close: {
          endReason: { kind: 'exited', exitCode: failed ? 1 : 0 },
          metrics: node.name === 'fit' ? { accuracy: 0.9 } : {},
          endedAt: new Date().toISOString(),
        },
      });
      if (!end.applied) throw new Error(`end: ${end.why}`);
    }
  }

  async function push(index: number): Promise<void> {
    writeFiles(repoDir, { 'data.txt': `push ${index}\n` });
    const commit = commitAll(repoDir, `push ${index}`);
    const runs: RunRecord[] = [];
    for (const name of PIPELINES) {
      runs.push(
        await createRun(control, {
          repository: REPOSITORY,
          source: { id: `github.com/${REPOSITORY}`, url: repoDir },
          commit,
          ref: `refs/pull/${PR}/head`,
          name,
          configText: CONFIG,
          configFile: 'kiln.yaml',
          trigger: {
            event: 'pull_request',
            pullRequest: PR,
            baseRef: 'refs/heads/main',
            fork: false,
          },
        }),
      );
    }
    const superseded = index % 3 === 1 && index < PUSHES - 1;
    if (superseded) {
      await sleep(100);
      for (const run of runs) {
        await applyRunEvent(control, {
          runId: run.id,
          event: {
            type: 'superseded',
            reason: 'superseded by the next push',
            by: 'f'.repeat(40),
          },
        });
      }
      return;
    }
    // Evaluate fails on odd pushes: the final state differs per commit.
    const fails = index % 2 === 1;
    await Promise.all(
      runs.map((run) => playRun(run, fails && run.name === 'evaluate')),
    );
    expected.set(commit, {
      'kiln/train': 'success',
      'kiln/evaluate': fails ? 'failure' : 'success',
    });
    lastCommit = commit;
  }

  it('ends every surviving commit with its final status and one comment per pipeline, showing the last push', async () => {
    let first = await startKiln('first');
    let killed: Promise<void> | undefined;
    let hard = false;
    for (let index = 0; index < PUSHES; index += 1) {
      if (index === KILL_AT) {
        const dying = first;
        // GitHub slows down: the writes in flight when kiln dies may land
        // after it is gone (a comment created whose id kiln never stored).
        github.fail({ kind: 'slow', delayMs: 2000, times: 4 });
        dying.child.kill('SIGTERM');
        killed = (async () => {
          await waitUntil(
            () =>
              dying.output().includes('shutting down') ||
              dying.child.exitCode !== null,
            'the first kiln to start shutting down',
          );
          await Promise.race([dying.exited, sleep(500)]);
          if (dying.child.exitCode === null) {
            hard = true;
            dying.child.kill('SIGKILL');
          }
          await dying.exited;
          github.clearFailures();
        })();
      }
      if (index === RESTART_AT) {
        await killed;
        first = await startKiln('second');
      }
      await push(index);
      await sleep(150);
    }

    const finalOf = (sha: string, context: string) =>
      github.statusesFor(REPOSITORY, sha, context).at(-1)?.state;
    await waitUntil(
      () =>
        [...expected].every(([sha, contexts]) =>
          Object.entries(contexts).every(
            ([context, state]) => finalOf(sha, context) === state,
          ),
        ) &&
        PIPELINES.every((name) =>
          github.comments.some(
            (comment) =>
              comment.body.includes(`pipeline=${name} `) &&
              comment.body.includes(`Commit \`${lastCommit.slice(0, 7)}\``),
          ),
        ),
      'every final status and both comments',
      120_000,
    ).catch(async (error: unknown) => {
      const missing = [...expected].flatMap(([sha, contexts]) =>
        Object.entries(contexts)
          .filter(([context, state]) => finalOf(sha, context) !== state)
          .map(
            ([context, state]) =>
              `${sha.slice(0, 7)} ${context}: want ${state}, got ${finalOf(sha, context)}`,
          ),
      );
      throw new Error(
        `${String(error)}\n${missing.join('\n')}\n${kilns.map((kiln) => kiln.output().slice(-3000)).join('\n---\n')}`,
      );
    });

    // The first kiln was still posting what was due when it was killed.
    expect({ hard, signal: kilns[0]?.child.signalCode }).toEqual({
      hard: true,
      signal: 'SIGKILL',
    });
    expect(expected.size).toBe(14);
    for (const name of PIPELINES) {
      const comments = github.comments.filter((comment) =>
        comment.body.startsWith(`<!-- kiln:pr-comment pipeline=${name} -->`),
      );
      expect({ name, comments: comments.length }).toEqual({
        name,
        comments: 1,
      });
    }
    // Never a pending after a final state.
    for (const [sha] of expected) {
      for (const name of PIPELINES) {
        const states = github
          .statusesFor(REPOSITORY, sha, `kiln/${name}`)
          .map((item) => item.state);
        const final = states.findIndex((state) => state !== 'pending');
        expect({ sha, name, after: states.slice(final) }).not.toMatchObject({
          after: expect.arrayContaining(['pending']),
        });
      }
    }
    github.assertNoInvalidRequests();
  });
});
