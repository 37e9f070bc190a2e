/**
 * GitHub failing while pipelines run on the real worker (reliability plan
 * §8.3 F10, F13, F14; §8.4 L7 at small scale): a real redis-server, a
 * real `kiln server` (the reporter) or `kiln up`, real `kiln worker`
 * processes running steps in Docker, and the GitHub stand-in refusing or
 * not answering. Steps never wait on GitHub; what was not posted is
 * posted once GitHub takes it again, ending at each commit's latest state
 * with one PR comment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/model/run.js';
import {
  startGithubStandIn,
  type GithubStandIn,
} from '../../helpers/github-stand-in.js';
import { freePort } from '../../helpers/redis-server.js';
import { haveDocker, haveRedis } from '../../helpers/services.js';
import { pipelineConfig } from './pipeline-configs.js';
import {
  REPOSITORY,
  startServiceFixture,
  waitFor,
  waitForRun,
  type ServiceFixture,
  type WorkerProcess,
} from './service-fixture.js';

const KILN_BIN = resolve(import.meta.dirname, '../../../bin/kiln.js');
const TOKEN = 'ghp_faults';
const METRICS_TOKEN = 'metrics-scrape-token-0123';
const CONTEXT = 'kiln/train';
const FINAL = ['complete', 'error', 'cancelled', 'stopped'];

interface Kiln {
  child: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<number | null>;
  /** Lines of /metrics matching `name`. */
  metric(name: string): Promise<string | undefined>;
}

describe.skipIf(!haveRedis() || !haveDocker())(
  'GitHub failing while pipelines run',
  () => {
    let fixture: ServiceFixture;
    let github: GithubStandIn | undefined;
    const kilns: Kiln[] = [];
    const workers: WorkerProcess[] = [];
    let config = '';

    beforeAll(async () => {
      fixture = await startServiceFixture();
      config = pipelineConfig(
        {
          name: 'train',
          nodes: ['prepare', 'fit'],
          edges: [['prepare', 'fit', 'v']],
        },
        [{ name: 'prepare' }, { name: 'fit', before: ['sleep 1'] }],
        '/dev/null',
      );
    }, 120_000);
    afterEach(async () => {
      for (const worker of workers.splice(0)) {
        worker.child.kill('SIGKILL');
        await worker.exited;
      }
      for (const kiln of kilns.splice(0)) {
        if (kiln.child.exitCode === null && kiln.child.signalCode === null)
          kiln.child.kill('SIGKILL');
        await kiln.exited;
      }
      await github?.close();
      github = undefined;
    });
    afterAll(async () => {
      await fixture?.close();
    }, 60_000);

    async function startKiln(
      role: 'server' | 'up',
      name: string,
      env: Record<string, string>,
    ): Promise<Kiln> {
      const port = await freePort();
      const child = spawn(process.execPath, [KILN_BIN, role], {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          REDIS_URL: fixture.redis.url,
          KILN_DATA_DIR: join(fixture.hostDir, `kiln-${name}`),
          KILN_HOST: '127.0.0.1',
          KILN_PORT: String(port),
          KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
          KILN_GITHUB_API_URL: github?.url ?? '',
          KILN_GITHUB_TOKEN: TOKEN,
          KILN_METRICS_TOKEN: METRICS_TOKEN,
          KILN_LOG_LEVEL: 'info',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const kiln: Kiln = {
        child,
        port,
        output: () => output,
        exited: new Promise((done) => child.once('exit', (code) => done(code))),
        async metric(metric) {
          const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
            headers: { authorization: `Bearer ${METRICS_TOKEN}` },
          });
          const text = await response.text();
          return text.split('\n').find((line) => line.startsWith(`${metric} `));
        },
      };
      kilns.push(kiln);
      await waitFor(`kiln ${name} to listen`, 60_000, () => {
        if (child.exitCode !== null) throw new Error(`kiln exited:\n${output}`);
        return output.includes('kiln is listening');
      });
      return kiln;
    }

    /** Pipeline runs of one PR, one commit each. */
    async function startRuns(count: number, pr: number): Promise<RunRecord[]> {
      const runs: RunRecord[] = [];
      for (let index = 0; index < count; index += 1) {
        runs.push(
          await fixture.startRun(config, 'train', {
            ref: `refs/pull/${pr}/head`,
            trigger: {
              event: 'pull_request',
              pullRequest: pr,
              baseRef: 'refs/heads/main',
              fork: false,
            },
          }),
        );
      }
      return runs;
    }

    const lastState = (commit: string) =>
      github?.statusesFor(REPOSITORY, commit, CONTEXT).at(-1)?.state;

    it('F10/L7: a primary rate limit holds every write until its reset, pipelines run on, and the backlog drains to the latest states and one comment', async () => {
      const stand = await startGithubStandIn({ tokens: [TOKEN] });
      github = stand;
      workers.push(
        await fixture.spawnWorker({
          id: 'gh-limit',
          runtime: 'docker',
          concurrency: 2,
        }),
      );
      await startKiln('server', 'limit', {});
      // remaining = 0 from now until the reset GitHub names.
      const reset = Math.ceil((Date.now() + 30_000) / 1000) * 1000;
      stand.fail({ kind: 'primary-rate-limit', until: reset });

      const runs = await startRuns(3, 10);
      for (const run of runs) {
        const done = await waitForRun(
          fixture,
          run.id,
          (state) => FINAL.includes(state.status),
          120_000,
        );
        expect(done.status).toBe('complete');
      }
      const kiln = kilns[0] as Kiln;
      // The pipelines ran to their end inside the window, while every
      // write waited (visible on /metrics).
      const backoff = await kiln.metric('kiln_github_backoff_seconds');
      expect(Date.now()).toBeLessThan(reset);
      expect(Number(backoff?.split(' ')[1])).toBeGreaterThan(0);

      await waitFor(
        'every final status and the comment',
        120_000,
        () =>
          runs.every((run) => lastState(run.commit) === 'success') &&
          stand.comments.some((comment) =>
            comment.body.includes(`\`${runs[2]?.commit.slice(0, 7)}\``),
          ),
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${kiln.output().slice(-4000)}`);
      });
      const drained = Math.max(
        ...stand.requests
          .filter((request) => (request.status ?? 0) < 300)
          .map((request) => request.time),
      );

      // During the window: only the requests that found the limit (the
      // reporter's 4 jobs at most), no probe before the reset.
      const inWindow = stand.requests.filter((request) => request.time < reset);
      expect(inWindow.every((request) => request.status === 403)).toBe(true);
      expect(inWindow.length).toBeLessThanOrEqual(4);
      expect(inWindow.length).toBeGreaterThanOrEqual(1);
      // None lost: each commit ends at its final state, pending never
      // after it, few writes each; one comment, showing the last push.
      for (const run of runs) {
        const states = stand
          .statusesFor(REPOSITORY, run.commit, CONTEXT)
          .map((item) => item.state);
        expect(states.at(-1)).toBe('success');
        expect(states.length).toBeLessThanOrEqual(5);
      }
      const comments = stand.comments.filter((item) => item.issue === 10);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body).toContain(runs[2]?.commit.slice(0, 7));
      // The backlog went out within seconds of the reset.
      expect(drained - reset).toBeLessThan(30_000);
      console.info(
        `F10: ${inWindow.length} request(s) in the 30 s window, backlog drained ${drained - reset} ms after the reset`,
      );
      stand.assertNoInvalidRequests();
    }, 240_000);
    it('F14: a GitHub that never answers holds no step, no lock renewal and no report for long: the run ends, and its report is posted once GitHub answers', async () => {
      const stand = await startGithubStandIn({ tokens: [TOKEN] });
      github = stand;
      // A black hole: every API request is read and never answered.
      stand.fail({ kind: 'hang' });
      // One process runs the steps and the reporter, with a step lock
      // shorter than the step: renewals must go on while reports hang.
      const kiln = await startKiln('up', 'hang', {
        KILN_RUNTIME: 'docker',
        KILN_CONCURRENCY: '2',
        KILN_GITHUB_TIMEOUT_MS: '1000',
        KILN_LOCK_DURATION_MS: '4000',
        KILN_STALLED_INTERVAL_MS: '2000',
      });
      const slow = pipelineConfig(
        {
          name: 'train',
          nodes: ['prepare', 'fit'],
          edges: [['prepare', 'fit', 'v']],
        },
        [{ name: 'prepare' }, { name: 'fit', before: ['sleep 9'] }],
        '/dev/null',
      );
      const run = await fixture.startRun(slow, 'train', {
        ref: 'refs/pull/14/head',
        trigger: {
          event: 'pull_request',
          pullRequest: 14,
          baseRef: 'refs/heads/main',
          fork: false,
        },
      });
      const done = await waitForRun(
        fixture,
        run.id,
        (state) => FINAL.includes(state.status),
        120_000,
      );
      expect(done.status).toBe('complete');
      // Each step ran once: its lock was renewed all along.
      expect(done.nodes.map((node) => node.attempt)).toEqual([1, 1]);
      // kiln gave up on the held requests after 1 s and tried again; none
      // got an answer.
      await waitFor('abandoned requests', 30_000, () =>
        kiln.output().includes('due to timeout'),
      );
      expect(stand.requests.length).toBeGreaterThanOrEqual(2);
      expect(
        stand.requests.every((request) => request.status === undefined),
      ).toBe(true);
      expect(stand.statuses).toEqual([]);

      const released = Date.now();
      stand.releaseHeld();
      await waitFor(
        'the final status and the comment',
        90_000,
        () =>
          lastState(run.commit) === 'success' &&
          stand.comments.some((comment) => comment.issue === 14),
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${kiln.output().slice(-4000)}`);
      });
      console.info(
        `F14: ${stand.requests.filter((request) => request.status === undefined).length} request(s) abandoned; final status ${Date.now() - released} ms after GitHub answered again`,
      );
      stand.assertNoInvalidRequests();
    }, 240_000);

    it('F13: credentials GitHub refuses even after a refresh mark reporting broken (alert, metric) while steps run on; reports resume when GitHub takes them', async () => {
      const stand = await startGithubStandIn({ tokens: [TOKEN] });
      github = stand;
      stand.revokeTokens();
      workers.push(
        await fixture.spawnWorker({
          id: 'gh-revoked',
          runtime: 'docker',
          concurrency: 2,
        }),
      );
      const kiln = await startKiln('server', 'revoked', {
        KILN_GITHUB_PROBE_INTERVAL_MS: '2000',
      });
      const [run] = await startRuns(1, 13);
      if (!run) throw new Error('no run');
      const done = await waitForRun(
        fixture,
        run.id,
        (state) => FINAL.includes(state.status),
        120_000,
      );
      expect(done.status).toBe('complete');
      await waitFor(
        'reporting marked broken',
        60_000,
        async () =>
          (await kiln.metric('kiln_github_reporting_broken')) ===
          'kiln_github_reporting_broken 1',
      );
      const alert =
        "GitHub refuses kiln's credentials (401) even with a new token";
      // Several probes later, still one alert.
      await waitFor(
        'three probes',
        60_000,
        () =>
          stand.requests.filter((request) => request.status === 401).length >=
          6,
      );
      expect(kiln.output().split(alert).length - 1).toBe(1);

      stand.restoreTokens();
      await waitFor(
        'the final status and the comment',
        60_000,
        () =>
          lastState(run.commit) === 'success' &&
          stand.comments.some((comment) => comment.issue === 13),
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${kiln.output().slice(-4000)}`);
      });
      await waitFor(
        'reporting no longer broken',
        30_000,
        async () =>
          (await kiln.metric('kiln_github_reporting_broken')) ===
          'kiln_github_reporting_broken 0',
      );
      expect(kiln.output()).toContain('reporting to GitHub resumed');
      stand.assertNoInvalidRequests();
    }, 240_000);
  },
);
