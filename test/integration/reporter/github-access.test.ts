import { generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
} from 'vitest';
import { createGithubClient } from '../../../src/forge/github/create-github-client.js';
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
  TOKEN,
  waitUntil,
  type ReporterFixture,
} from './reporter-fixture.js';

describe.skipIf(!haveRedis())('GitHub access', () => {
  let server: TestRedis;
  let fixture: ReporterFixture;
  let github: GithubStandIn | undefined;

  beforeAll(async () => {
    server = await startTestRedis();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    fixture = await createReporterFixture(server.url);
  });
  afterEach(async () => {
    await fixture.close();
    await github?.close();
  });

  it('makes every reporter on the same Redis wait after a secondary rate limit', async () => {
    github = await startGithubStandIn({ tokens: [TOKEN] });
    const stand = github;
    const first = fixture.makeReporter({
      github: fixture.tokenClient(stand.url),
    });
    const second = fixture.makeReporter({
      github: fixture.tokenClient(stand.url),
      queueName: `other-${fixture.prefix}`,
    });
    // Only the first follows the run events yet: it meets the limit.
    first.startReportWorker();
    stand.fail({
      kind: 'secondary-rate-limit',
      method: 'POST',
      retryAfter: 2,
      times: 1,
    });
    await fixture.createRun({ commit: sha(1) });
    await waitUntil(
      () => stand.requests.some((item) => item.status === 403),
      'the rate limit',
    );
    const limitedAt =
      stand.requests.find((item) => item.status === 403)?.time ?? 0;
    let until = 0;
    await waitUntil(async () => {
      until = Number(
        await fixture.redis.get(fixture.stores.keys.githubBackoff),
      );
      return until > 0;
    }, 'the shared backoff');
    expect(until).toBeGreaterThanOrEqual(limitedAt + 1000);

    // The second has a job of its own for the next run (its queue is
    // another one), whichever reporter reads the run's event.
    second.startReportWorker();
    const two = await fixture.createRun({ commit: sha(2) });
    second.queueReport(two.id);
    await waitUntil(
      () =>
        stand.statusesFor(REPO, sha(1)).length === 1 &&
        stand.statusesFor(REPO, sha(2)).length === 1,
      'both statuses after the wait',
    );

    const after = stand.requests.filter((item) => item.time > limitedAt);
    expect(after.length).toBeGreaterThanOrEqual(2);
    for (const request of after)
      expect(request.time).toBeGreaterThanOrEqual(until);
    stand.assertNoInvalidRequests();
  });

  it('mints installation tokens with the App key and refreshes them before they expire', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    github = await startGithubStandIn({
      app: { id: '4242', publicKey },
      installations: { [REPO]: 77 },
      tokenLifetimeMs: 3000,
    });
    const stand = github;
    const client = createGithubClient({
      settings: {
        githubApiUrl: stand.url,
        githubAppId: '4242',
        githubPrivateKey: privateKey
          .export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      },
      logger: pino({ level: 'silent' }),
      minWriteIntervalMs: 0,
      retryBaseMs: 10,
      tokenRefreshMarginMs: 2000,
    });
    expect(client?.kind).toBe('app');
    const reporter = fixture.makeReporter({ github: client });
    reporter.startReportWorker();

    const run = await fixture.createRun({ commit: sha(3) });
    await waitUntil(() => stand.checkRuns.length === 1, 'check run');
    expect(stand.mintedTokens.length).toBeGreaterThanOrEqual(1);
    expect(stand.checkRuns).toMatchObject([
      { head_sha: sha(3), name: 'kiln/train-evaluate', status: 'in_progress' },
    ]);

    // The token now has less than the margin left: the next report mints one.
    await waitUntil(
      () => (stand.mintedTokens[0]?.expiresAt ?? 0) - Date.now() < 2000,
      'token ageing',
    );
    await fixture.completeRun(run, { accuracy: 0.97 });
    await waitUntil(
      () => stand.checkRuns[0]?.status === 'completed',
      'completed check run',
    );
    expect(stand.mintedTokens.length).toBeGreaterThanOrEqual(2);
    expect(stand.checkRuns[0]?.conclusion).toBe('success');
    // Replaced before expiry: GitHub never saw an expired token.
    expect(stand.requests.filter((item) => item.status === 401)).toEqual([]);

    stand.assertNoInvalidRequests();
  });

  it('mints a new installation token when GitHub refuses one (401)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    github = await startGithubStandIn({
      app: { id: '4242', publicKey },
      installations: { [REPO]: 77 },
    });
    const stand = github;
    const reporter = fixture.makeReporter({
      github: createGithubClient({
        settings: {
          githubApiUrl: stand.url,
          githubAppId: '4242',
          githubPrivateKey: privateKey
            .export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        },
        logger: pino({ level: 'silent' }),
        minWriteIntervalMs: 0,
        retryBaseMs: 10,
      }),
    });
    reporter.startReportWorker();
    await fixture.createRun({
      commit: sha(5),
      trigger: { event: 'push', installationId: 77 },
    });
    await waitUntil(() => stand.checkRuns.length === 1, 'first report');
    // auth-app retries a 401 itself only for tokens younger than 5 s.
    await sleep(5200);
    stand.fail({ kind: 'unauthorized', method: 'POST', times: 1 });

    await fixture.createRun({
      commit: sha(6),
      trigger: { event: 'push', installationId: 77 },
    });
    await waitUntil(
      () => stand.statusesFor(REPO, sha(6)).length === 1,
      'status after the 401',
    );

    expect(stand.requests.some((item) => item.status === 401)).toBe(true);
    expect(stand.mintedTokens).toHaveLength(2);
    expect(
      stand.requests.filter((item) => item.path.endsWith('/installation')),
    ).toHaveLength(0);
    stand.assertNoInvalidRequests();
  }, 30_000);

  it('is absent when GitHub is not configured', () => {
    const client = createGithubClient({
      settings: {},
      logger: pino({ level: 'silent' }),
    });
    const reporter = fixture.makeReporter({ github: null });

    expect(client).toBeNull();
    expect(reporter.enabled).toBe(false);
    expect(reporter.notes[0]).toMatch(/nothing is posted to GitHub/);
    expect(() => reporter.queueReport('r-any')).not.toThrow();
  });
});
