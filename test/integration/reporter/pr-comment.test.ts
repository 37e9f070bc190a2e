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
import type { Reporter } from '../../../src/reporter/start-reporter.js';
import {
  createReporterFixture,
  REPO,
  sha,
  TOKEN,
  waitUntil,
  type ReporterFixture,
} from './reporter-fixture.js';

const BASE_SHA = sha(100);
const PR = 9;

describe.skipIf(!haveRedis())('pull request comment', () => {
  let server: TestRedis;
  let github: GithubStandIn;
  let fixture: ReporterFixture;
  let reporter: Reporter;

  beforeAll(async () => {
    server = await startTestRedis();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    github = await startGithubStandIn({ tokens: [TOKEN] });
    fixture = await createReporterFixture(server.url);
    reporter = fixture.makeReporter({
      github: fixture.tokenClient(github.url),
    });
    reporter.startReportWorker();
    // The baseline: a successful run on main at the PR's base commit.
    const base = await fixture.createRun({
      commit: BASE_SHA,
      createdAt: '2026-11-01T10:00:00.000Z',
    });
    await fixture.completeRun(base, { accuracy: 0.961, loss: 0.2 });
    await waitUntil(
      () =>
        github
          .statusesFor(REPO, BASE_SHA)
          .some((item) => item.state === 'success'),
      'base status',
    );
  });
  afterEach(async () => {
    await fixture.close();
    await github.close();
  });

  async function push(
    commit: string,
    metrics: Record<string, number>,
    parameters = { learning_rate: 0.1 },
  ) {
    const run = await fixture.createRun({
      commit,
      ref: `refs/pull/${PR}/head`,
      parameters,
      trigger: {
        event: 'pull_request',
        pullRequest: PR,
        baseRef: 'main',
        baseSha: BASE_SHA,
        fork: false,
      },
    });
    await fixture.completeRun(run, metrics);
    await waitUntil(
      () =>
        github
          .statusesFor(REPO, commit)
          .some((item) => item.state !== 'pending'),
      `final status of ${commit}`,
    );
    await waitUntil(
      () =>
        github.comments.some((item) => item.body.includes(commit.slice(0, 7))),
      `comment for ${commit}`,
    );
    return run;
  }

  it('keeps one comment across three pushes, with deltas against the base run', async () => {
    await push(sha(201), { accuracy: 0.95, loss: 0.25 });
    await push(sha(202), { accuracy: 0.965, loss: 0.21 });
    await push(
      sha(203),
      { accuracy: 0.973, loss: 0.18 },
      { learning_rate: 0.05 },
    );

    expect(github.comments).toHaveLength(1);
    const [comment] = github.comments;
    expect(comment?.edits).toBe(2);
    const lines = comment?.body.split('\n') ?? [];
    expect(lines[0]).toBe('<!-- kiln:pr-comment pipeline=train-evaluate -->');
    expect(lines).toContain(
      `| metric | base (main @ ${BASE_SHA.slice(0, 7)}) | this PR | Δ |`,
    );
    expect(lines).toContain('| accuracy | 0.961 | 0.973 | ▲ +0.012 better |');
    expect(lines).toContain('| loss | 0.2 | 0.18 | ▼ -0.02 better |');
    expect(lines).toContain('| learning\\_rate | 0.1 | 0.05 |');
    expect(github.statusesFor(REPO, sha(203)).at(-1)?.description).toBe(
      'accuracy 0.973 (+0.012 vs main) · 2/2 steps · 2m14s',
    );
    github.assertNoInvalidRequests();
  });

  it('fails the status naming the metric when it regresses beyond the allowed amount', async () => {
    await push(sha(301), { accuracy: 0.91, loss: 0.19 });

    const final = github.statusesFor(REPO, sha(301)).at(-1);
    expect(final?.state).toBe('failure');
    expect(final?.description).toBe(
      'accuracy 0.91 is 0.051 below main (allowed 0.02)',
    );
    expect(github.comments[0]?.body).toContain(
      '▼ -0.051 worse (beyond allowed)',
    );
    github.assertNoInvalidRequests();
  });

  it('finds its comment by the marker on a later page when the stored id is lost', async () => {
    await push(sha(401), { accuracy: 0.95, loss: 0.2 });
    // Reviewers talk: kiln's comment ends up on the first of two pages.
    for (let index = 0; index < 120; index += 1) {
      github.comments.push({
        id: 90_000 + index,
        repository: REPO,
        issue: PR,
        body: `chatter ${index}`,
        edits: 0,
      });
    }
    let keys: string[] = [];
    await waitUntil(async () => {
      keys = await fixture.redis.keys(`${fixture.prefix}:github:comment:*`);
      return keys.length === 1;
    }, 'the stored comment id');
    await fixture.redis.del(...keys);

    await push(sha(402), { accuracy: 0.97, loss: 0.2 });

    const marked = github.comments.filter((item) =>
      item.body.startsWith('<!-- kiln:pr-comment'),
    );
    expect(marked).toHaveLength(1);
    expect(marked[0]?.edits).toBe(1);
    expect(
      github.requests.some(
        (item) => item.method === 'GET' && item.query.page === '2',
      ),
    ).toBe(true);
    github.assertNoInvalidRequests();
  });

  it('says plainly when the base branch has no successful run', async () => {
    const run = await fixture.createRun({
      commit: sha(501),
      name: 'train-evaluate',
      ref: `refs/pull/${PR}/head`,
      trigger: {
        event: 'pull_request',
        pullRequest: PR,
        baseRef: 'develop',
        baseSha: sha(500),
        fork: false,
      },
    });
    await fixture.completeRun(run, { accuracy: 0.9 });
    await waitUntil(() => github.comments.length === 1, 'comment');

    expect(github.comments[0]?.body).toContain(
      `No successful run of train-evaluate on develop at or before the merge base ${sha(500).slice(0, 7)} — push to develop to get a baseline.`,
    );
  });
});
