import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
} from 'vitest';
import {
  startGithubStandIn,
  type GithubStandIn,
} from '../../helpers/github-stand-in.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import {
  createReporterFixture,
  PUBLIC_URL,
  REPO,
  sha,
  TOKEN,
  waitUntil,
  type ReporterFixture,
} from './reporter-fixture.js';

describe.skipIf(!haveRedis())('commit statuses', () => {
  let server: TestRedis;
  let github: GithubStandIn;
  let fixture: ReporterFixture;

  beforeAll(async () => {
    server = await startTestRedis();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    github = await startGithubStandIn({ tokens: [TOKEN] });
    fixture = await createReporterFixture(server.url);
  });
  afterEach(async () => {
    await fixture.close();
    await github.close();
  });

  it('posts pending, then success with the metric, linked to the run', async () => {
    const reporter = fixture.makeReporter({
      github: fixture.tokenClient(github.url),
    });
    reporter.startReportWorker();
    const commit = sha(1);
    // The run's creation is an event the reporter follows.
    const run = await fixture.createRun({ commit });
    await waitUntil(
      () => github.statusesFor(REPO, commit).length === 1,
      'pending status',
    );

    await fixture.completeRun(run, { accuracy: 0.973, loss: 0.12 });
    await waitUntil(
      () => github.statusesFor(REPO, commit).length === 2,
      'final status',
    );

    const [pending, final] = github.statusesFor(REPO, commit);
    expect(pending).toMatchObject({
      state: 'pending',
      context: 'kiln/train-evaluate',
      target_url: `${PUBLIC_URL}/runs/${run.id}`,
    });
    expect(final?.state).toBe('success');
    expect(final?.description).toBe('accuracy 0.973 · 2/2 steps · 2m14s');
    github.assertNoInvalidRequests();
  });

  it('fails the status with file:line when the configuration is invalid', async () => {
    const reporter = fixture.makeReporter({
      github: fixture.tokenClient(github.url),
    });
    reporter.startReportWorker();
    const commit = sha(2);
    await fixture.createRun({
      commit,
      status: 'error',
      nodes: [],
      endedAt: new Date().toISOString(),
      reason: 'kiln.yaml:12:5 error: unknown key "imagee"',
      findings: [
        {
          file: 'kiln.yaml',
          line: 12,
          column: 5,
          path: '0.step.imagee',
          severity: 'error',
          message: 'unknown key "imagee" — did you mean "image"?',
        },
      ],
    });

    await waitUntil(
      () => github.statusesFor(REPO, commit).length === 1,
      'status',
    );
    const [status] = github.statusesFor(REPO, commit);
    expect(status?.state).toBe('failure');
    expect(status?.description).toBe(
      'kiln.yaml:12 unknown key "imagee" — did you mean "image"?',
    );
    github.assertNoInvalidRequests();
  });

  it('never posts the same state twice for a commit and context', async () => {
    const reporter = fixture.makeReporter({
      github: fixture.tokenClient(github.url),
    });
    reporter.startReportWorker();
    const commit = sha(3);
    const run = await fixture.createRun({ commit });
    for (let index = 0; index < 5; index += 1) {
      reporter.queueReport(run.id);
      await waitUntil(
        () => github.statusesFor(REPO, commit).length >= 1,
        'status',
      );
    }
    // queued → running → complete: running is still pending on GitHub.
    await fixture.completeRun(run, { accuracy: 0.9 });
    await waitUntil(
      () =>
        github
          .statusesFor(REPO, commit)
          .some((item) => item.state === 'success'),
      'success',
    );

    expect(github.statusesFor(REPO, commit).map((item) => item.state)).toEqual([
      'pending',
      'success',
    ]);
  });

  it('converges once GitHub is back from 500s and still leaves one comment after a 502 that created it', async () => {
    const reporter = fixture.makeReporter({
      github: fixture.tokenClient(github.url),
    });
    reporter.startReportWorker();
    github.fail({ kind: 'server-error', times: 6 });
    github.fail({
      kind: 'bad-gateway-after-create',
      method: 'POST',
      pathIncludes: '/comments',
      times: 1,
    });
    const commit = sha(4);
    const run = await fixture.createRun({
      commit,
      ref: 'refs/pull/7/head',
      trigger: {
        event: 'pull_request',
        pullRequest: 7,
        baseRef: 'main',
        baseSha: sha(40),
        fork: false,
      },
    });
    await fixture.completeRun(run, { accuracy: 0.95, loss: 0.2 });

    await waitUntil(
      () => github.statusesFor(REPO, commit).at(-1)?.state === 'success',
      'final status after the outage',
    );
    await waitUntil(
      () => github.comments.length === 1 && github.comments[0]!.edits >= 1,
      'comment',
    );
    expect(github.requests.filter((item) => item.status === 502)).toHaveLength(
      1,
    );
    expect(github.comments).toHaveLength(1);
    github.assertNoInvalidRequests();
  });
});
