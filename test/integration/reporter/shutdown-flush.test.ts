/**
 * A reporter that stops posts what is due within its grace period first,
 * and leaves the rest queued in Redis for the next one.
 */
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
  REPO,
  sha,
  waitUntil,
  type ReporterFixture,
} from './reporter-fixture.js';

describe.skipIf(!haveRedis())('reporter shutdown', () => {
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
    github = await startGithubStandIn({ tokens: ['ghp_test_token'] });
    fixture = await createReporterFixture(server.url);
  });
  afterEach(async () => {
    await fixture.close();
    await github.close();
  });

  it('posts the reports due within the grace period before it stops', async () => {
    const reporter = fixture.makeReporter({
      github: fixture.tokenClient(github.url),
      debounceMs: 1500,
    });
    reporter.startReportWorker();
    const commit = sha(11);
    const run = await fixture.createRun({ commit });
    await fixture.completeRun(run, { accuracy: 0.9 });
    const other = await fixture.createRun({ commit: sha(12) });
    // The last run's creation is still being debounced.
    await waitUntil(
      () => github.statusesFor(REPO, commit).length > 0,
      'the first report',
    );

    const started = Date.now();
    const result = await reporter.close({ flushUntil: Date.now() + 10_000 });

    expect(result).toEqual({ left: 0 });
    expect(github.statusesFor(REPO, commit).at(-1)?.state).toBe('success');
    expect(github.statusesFor(REPO, other.commit)).toEqual([
      expect.objectContaining({ state: 'pending' }),
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('leaves what is not due yet to the next reporter, which posts it', async () => {
    const reporter = fixture.makeReporter({
      github: fixture.tokenClient(github.url),
      debounceMs: 3000,
    });
    reporter.startReportWorker();
    const run = await fixture.createRun({ commit: sha(13) });
    // The creation event is read and its (debounced) report queued.
    const delayed = `${fixture.stores.keys.bullPrefix}:reports-${fixture.prefix}:delayed`;
    await waitUntil(
      async () => (await fixture.redis.zcard(delayed)) > 0,
      'the report to be queued',
    );

    const result = await reporter.close({ flushUntil: Date.now() + 200 });

    expect(result.left).toBeGreaterThanOrEqual(1);
    expect(github.statusesFor(REPO, run.commit)).toEqual([]);
    const next = fixture.makeReporter({
      github: fixture.tokenClient(github.url),
    });
    next.startReportWorker();
    await waitUntil(
      () => github.statusesFor(REPO, run.commit).length === 1,
      'the next reporter to post it',
    );
  });
});
