/**
 * Check runs end to end with App auth: pushes delivered to a real intake
 * (webhook route, intake worker, a real git repository) make runs, the
 * reporter follows them and writes check runs to the GitHub stand-in (every
 * request checked against GitHub's OpenAPI description). An invalid
 * kiln.yaml and a failed step are annotated on their lines; GitHub's
 * "Re-run" (a `check_run` or `check_suite` `rerequested` delivery) starts a
 * new run, reported on a new check run.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyNodeEvent } from '../../../src/control/apply-node-event.js';
import { loadRunPlan } from '../../../src/control/load-run-plan.js';
import { createGithubClient } from '../../../src/forge/github/create-github-client.js';
import type { RunRecord } from '../../../src/model/run.js';
import { CLAIMABLE_RUN_STATUSES } from '../../../src/orchestrator/run-machine.js';
import {
  createReporter,
  type Reporter,
} from '../../../src/reporter/start-reporter.js';
import {
  startGithubStandIn,
  type GithubStandIn,
  type StoredCheckRun,
} from '../../helpers/github-stand-in.js';
import { haveRedis } from '../../helpers/services.js';
import {
  checkRunRerequestedPayload,
  checkSuiteRerequestedPayload,
  pushPayload,
  REPOSITORY,
  startIntakeFixture,
  type IntakeFixture,
} from '../intake/intake-fixture.js';
import { waitUntil } from './reporter-fixture.js';

const INSTALLATION = 7;

// Line 6 is the failing step's `name: train`.
const PIPELINE_YAML = `- step:
    name: prepare
    image: busybox
    command: echo prepare
- step:
    name: train
    image: busybox
    command: exit 3
- pipeline:
    name: train-pipeline
    nodes:
      - name: prepare
        type: execution
        step: prepare
      - name: train
        type: execution
        step: train
    edges: []
- trigger:
    name: on-push
    on: [push]
    branches: [main]
    run: train-pipeline
`;

// Line 4: a misspelt key.
const INVALID_YAML = `- step:
    name: train
    image: busybox
    commnd: python train.py
- trigger:
    name: on-push
    on: [push]
    branches: [main]
    run: train
`;

describe.skipIf(!haveRedis())('check runs', () => {
  let fixture: IntakeFixture;
  let github: GithubStandIn;
  let reporter: Reporter;
  let bull: Redis;
  let redis: Redis;

  beforeAll(async () => {
    fixture = await startIntakeFixture();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    github = await startGithubStandIn({
      app: { id: '42', publicKey },
      installations: { [REPOSITORY]: INSTALLATION },
    });
    const logger = pino({ level: 'silent' });
    const client = createGithubClient({
      settings: {
        githubApiUrl: github.url,
        githubAppId: '42',
        githubPrivateKey: privateKey
          .export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      },
      logger,
      minWriteIntervalMs: 0,
    });
    bull = new Redis(fixture.redis.url, { maxRetriesPerRequest: null });
    redis = new Redis(fixture.redis.url);
    reporter = createReporter({
      redis,
      bullConnection: bull,
      keys: fixture.keys,
      runs: fixture.control.runs,
      configs: fixture.control.configs,
      executions: fixture.control.executions,
      logger,
      settings: { publicUrl: fixture.url },
      github: client,
      debounceMs: 50,
      minWriteIntervalMs: 0,
    });
    reporter.startReportWorker();
  });
  afterAll(async () => {
    await reporter?.close();
    bull?.disconnect();
    redis?.disconnect();
    await github?.close();
    await fixture?.close();
  });

  async function deliver(event: string, payload: unknown) {
    const delivery = randomUUID();
    const response = await fixture.post({ event, delivery, payload });
    expect(response.status).toBe(202);
    return fixture.waitForOutcome(delivery);
  }

  async function pushMain(files: Record<string, string>): Promise<{
    sha: string;
    run: RunRecord;
  }> {
    const sha = fixture.push('main', files, `commit ${randomUUID()}`);
    const outcome = await deliver('push', {
      ...pushPayload({ bareDir: fixture.bareDir, branch: 'main', after: sha }),
      installation: { id: INSTALLATION },
    });
    expect(outcome.status).toBe('runs-created');
    const run = await fixture.control.runs.getRun(outcome.runIds[0] ?? '');
    if (!run) throw new Error('no run');
    return { sha, run };
  }

  function checkRunsOf(sha: string): StoredCheckRun[] {
    return github.checkRuns.filter((item) => item.head_sha === sha);
  }

  /** Each node claimed by a worker and ended: `prepare` passes, `train` fails. */
  async function playFailingRun(run: RunRecord): Promise<void> {
    const control = fixture.control;
    const { graph } = await loadRunPlan(control.configs, run);
    const stored = await control.runs.getRun(run.id);
    for (const node of stored?.nodes ?? []) {
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
      const failed = node.name === 'train';
      const end = await applyNodeEvent(control, {
        run,
        graph,
        from: claim.node,
        event: {
          type: 'finished',
          attempt: claim.node.attempt,
          outcome: failed ? 'error' : 'complete',
          message: failed ? 'exited with code 3' : 'exited with code 0',
        },
        close: {
          endReason: { kind: 'exited', exitCode: failed ? 3 : 0 },
          metrics: {},
          endedAt: new Date().toISOString(),
        },
      });
      if (!end.applied) throw new Error(`end: ${end.why}`);
    }
  }

  it('annotates the lines of an invalid kiln.yaml', async () => {
    const { sha, run } = await pushMain({ 'kiln.yaml': INVALID_YAML });
    expect(run.status).toBe('error');

    await waitUntil(
      () => checkRunsOf(sha).some((item) => item.status === 'completed'),
      'the completed check run',
    );

    const [check] = checkRunsOf(sha);
    expect(check).toMatchObject({
      name: 'kiln/train',
      status: 'completed',
      conclusion: 'failure',
    });
    expect(check?.output?.annotations).toEqual([
      {
        path: 'kiln.yaml',
        start_line: 2,
        end_line: 2,
        start_column: 5,
        end_column: 5,
        annotation_level: 'failure',
        message: 'step "train" is missing "command"',
      },
      // An image without a tag is a warning (reliability plan row 36).
      expect.objectContaining({
        start_line: 3,
        annotation_level: 'warning',
        message: expect.stringContaining(
          'image "busybox" of step "train" is not pinned (no tag)',
        ) as string,
      }),
      {
        path: 'kiln.yaml',
        start_line: 4,
        end_line: 4,
        start_column: 5,
        end_column: 5,
        annotation_level: 'failure',
        message:
          'unknown key "commnd" in step "train" — did you mean "command"?',
      },
    ]);
    expect(check?.output?.summary).toContain('kiln.yaml:4');
    github.assertNoInvalidRequests();
  });

  it("annotates a failed step's line, and a re-run requested on GitHub starts a new run with a new check run", async () => {
    const { sha, run } = await pushMain({ 'kiln.yaml': PIPELINE_YAML });
    await waitUntil(
      () => checkRunsOf(sha).length === 1,
      'the in-progress check run',
    );
    await playFailingRun(run);
    await waitUntil(
      () => checkRunsOf(sha)[0]?.status === 'completed',
      'the completed check run',
    );
    const [first] = checkRunsOf(sha);
    expect(first).toMatchObject({
      name: 'kiln/train-pipeline',
      conclusion: 'failure',
    });
    expect(first?.output?.annotations).toEqual([
      {
        path: 'kiln.yaml',
        start_line: 6,
        end_line: 6,
        annotation_level: 'failure',
        title: 'step train failed',
        message: 'train failed: exited with code 3',
      },
      // kiln's advice about the configuration stays, as warnings: the
      // steps' images without a tag, and the pipeline's.
      expect.objectContaining({ annotation_level: 'warning', start_line: 3 }),
      expect.objectContaining({ annotation_level: 'warning', start_line: 7 }),
      expect.objectContaining({ annotation_level: 'warning', start_line: 12 }),
      expect.objectContaining({ annotation_level: 'warning', start_line: 15 }),
    ]);
    const created = github.requests.find(
      (item) =>
        item.method === 'POST' &&
        item.route?.endsWith('/check-runs') &&
        (item.body as { head_sha?: string }).head_sha === sha,
    );
    expect(created?.body).toMatchObject({ external_id: run.id });

    const outcome = await deliver(
      'check_run',
      checkRunRerequestedPayload({
        bareDir: fixture.bareDir,
        sha,
        externalId: run.id,
        name: 'kiln/train-pipeline',
        installationId: INSTALLATION,
      }),
    );

    expect(outcome).toMatchObject({
      status: 'runs-created',
      action: 'rerequested',
    });
    expect(outcome.runIds).toHaveLength(1);
    const rerun = await fixture.control.runs.getRun(outcome.runIds[0] ?? '');
    expect(rerun).toMatchObject({
      commit: sha,
      name: 'train-pipeline',
      status: 'queued',
      trusted: true,
      trigger: { event: 'rerun', sender: 'octocat' },
    });
    expect(rerun?.id).not.toBe(run.id);
    await waitUntil(
      () => checkRunsOf(sha).length === 2,
      'a second check run for the re-run',
    );
    expect(checkRunsOf(sha)[1]).toMatchObject({
      name: 'kiln/train-pipeline',
      status: 'in_progress',
    });
    github.assertNoInvalidRequests();
  });

  it("re-runs the latest run of each pipeline of a commit when the check suite's re-run is requested", async () => {
    const { sha, run } = await pushMain({
      'kiln.yaml': PIPELINE_YAML,
      'notes.txt': 'suite',
    });
    await playFailingRun(run);

    const outcome = await deliver(
      'check_suite',
      checkSuiteRerequestedPayload({ bareDir: fixture.bareDir, sha }),
    );

    expect(outcome.status).toBe('runs-created');
    expect(outcome.runIds).toHaveLength(1);
    const rerun = await fixture.control.runs.getRun(outcome.runIds[0] ?? '');
    expect(rerun).toMatchObject({
      commit: sha,
      name: run.name,
      trigger: { event: 'rerun' },
    });
  });

  it('ignores a re-run of a check run that names a run of another commit', async () => {
    const { run } = await pushMain({
      'kiln.yaml': PIPELINE_YAML,
      'notes.txt': 'other',
    });

    const outcome = await deliver(
      'check_run',
      checkRunRerequestedPayload({
        bareDir: fixture.bareDir,
        sha: 'f'.repeat(40),
        externalId: run.id,
      }),
    );

    expect(outcome.status).toBe('ignored');
    expect(outcome.runIds).toEqual([]);
  });
});
