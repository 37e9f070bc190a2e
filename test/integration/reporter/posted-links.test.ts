/**
 * Every link kiln posts to GitHub (status target_url, check run
 * details_url, the links in the PR comment and check run summary, the
 * chart image) opens a page of a running kiln server: fetched, each
 * answers 200, a link to a step opens its execution's page (links posted
 * before execution pages existed, `/runs/<run>#execution-<id>`, still land
 * on the step), and the chart image is served without a login, as GitHub's
 * image proxy fetches it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubClient } from '../../../src/forge/github/create-github-client.js';
import { createTokenStore } from '../../../src/http/auth/token-store.js';
import { createApp } from '../../../src/engine/create-app.js';
import type { RunRecord } from '../../../src/model/run.js';
import { readSettings } from '../../../src/settings.js';
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

const PR = 12;

describe.skipIf(!haveRedis())('links kiln posts to GitHub', () => {
  let redis: TestRedis;
  let github: GithubStandIn;
  let fixture: ReporterFixture;
  let server: Server;
  let kilnUrl: string;
  let viewerToken: string;
  let dataDir: string;
  let baseId: string;
  let headId: string;
  let basePrepare: string;
  let headTrain: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    fixture = await createReporterFixture(redis.url);
    dataDir = mkdtempSync(join(tmpdir(), 'kiln-links-'));
    const settings = readSettings({
      KILN_DATA_DIR: dataDir,
      REDIS_URL: redis.url,
      KILN_REDIS_PREFIX: fixture.prefix,
      KILN_LOG_LEVEL: 'silent',
    });
    const logger = pino({ level: 'silent' });
    server = createServer(
      createApp({
        settings,
        logger,
        redis: fixture.redis,
        keys: fixture.stores.keys,
        control: fixture.control,
      }),
    );
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const address = server.address();
    kilnUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    viewerToken = (
      await createTokenStore(fixture.redis, {
        keys: fixture.stores.keys,
      }).createToken({ name: 'reviewer', role: 'viewer' })
    ).token;

    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    github = await startGithubStandIn({
      app: { id: '31', publicKey },
      installations: { [REPO]: 5 },
    });
    const client = createGithubClient({
      settings: {
        githubApiUrl: github.url,
        githubAppId: '31',
        githubPrivateKey: privateKey
          .export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      },
      logger,
      minWriteIntervalMs: 0,
      retryBaseMs: 10,
    });
    const reporter = fixture.makeReporter({
      github: client,
      settings: { publicUrl: `${kilnUrl}/` },
    });
    reporter.startReportWorker();

    // A base run on main, then a pull request run whose `prepare` node
    // reuses the base run's execution (so its step lives on another page).
    const base = await fixture.createRun({ commit: sha(1) });
    const baseDone = await fixture.completeRun(
      base,
      { accuracy: 0.9 },
      { curve: curve(0.8) },
    );
    const head = await fixture.createRun({
      commit: sha(2),
      ref: `refs/pull/${PR}/head`,
      trigger: {
        event: 'pull_request',
        pullRequest: PR,
        baseRef: 'main',
        baseSha: sha(1),
        fork: false,
      },
    });
    baseId = base.id;
    headId = head.id;
    basePrepare = executionOf(baseDone, 'prepare');
    const done = await fixture.completeRun(
      head,
      { accuracy: 0.93 },
      { reuse: { prepare: basePrepare }, curve: curve(0.9) },
    );
    headTrain = executionOf(done, 'train');
    await waitUntil(
      () =>
        github.comments.some((item) => item.body.includes(basePrepare)) &&
        github.checkRuns.filter((item) => item.status === 'completed')
          .length === 2,
      'the final comment and check runs',
    );
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server?.closeAllConnections();
      server?.close(() => resolve());
    });
    await fixture?.close();
    await github?.close();
    await redis?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function markdown(): string[] {
    return [
      ...github.comments.map((item) => item.body),
      ...github.checkRuns.map((item) => item.output?.summary ?? ''),
    ];
  }

  /** `![alt](url)`: images GitHub's proxy fetches, without credentials. */
  function postedImages(): string[] {
    return [
      ...new Set(
        markdown().flatMap((text) =>
          [...text.matchAll(/!\[[^\]]*\]\((https?:\/\/[^)\s]+)\)/g)].map(
            (m) => m[1]!,
          ),
        ),
      ),
    ];
  }

  function postedLinks(): string[] {
    const images = new Set(postedImages());
    const inText = markdown()
      .flatMap((text) =>
        [...text.matchAll(/\]\((https?:\/\/[^)\s]+)\)/g)].map((m) => m[1]!),
      )
      .filter((url) => !images.has(url));
    const statuses = github.statuses.map((item) => item.target_url);
    const details = github.requests
      .filter((item) => item.route?.includes('/check-runs'))
      .map((item) => (item.body as { details_url?: string }).details_url);
    return [
      ...new Set(
        [...inText, ...statuses, ...details].filter(
          (url): url is string => url !== undefined,
        ),
      ),
    ];
  }

  it('answers 200 for each of them, and step links land on the step', async () => {
    const links = postedLinks();

    expect(links).toEqual(
      expect.arrayContaining([
        `${kilnUrl}/runs/${baseId}`,
        `${kilnUrl}/runs/${headId}`,
        `${kilnUrl}/executions/${headTrain}`,
        // The reused node: the execution of the base run it took.
        `${kilnUrl}/executions/${basePrepare}`,
      ]),
    );
    for (const old of [
      `${kilnUrl}/runs/${headId}#execution-${headTrain}`,
      `${kilnUrl}/runs/${baseId}#execution-${basePrepare}`,
    ]) {
      links.push(old);
    }
    for (const link of links) {
      expect(link.startsWith(`${kilnUrl}/`)).toBe(true);
      const response = await fetch(link, {
        headers: { authorization: `Bearer ${viewerToken}` },
        redirect: 'manual',
      });
      const html = await response.text();
      expect({ link, status: response.status }).toEqual({
        link,
        status: 200,
      });
      const anchor = new URL(link).hash.slice(1);
      if (anchor) expect(html).toContain(`id="${anchor}"`);
    }
    github.assertNoInvalidRequests();
  });

  it('links check runs to their run page', () => {
    const details = github.requests
      .filter((item) => item.route?.includes('/check-runs'))
      .map((item) => (item.body as { details_url?: string }).details_url);

    expect(github.checkRuns).toHaveLength(2);
    expect(new Set(details)).toEqual(
      new Set([`${kilnUrl}/runs/${baseId}`, `${kilnUrl}/runs/${headId}`]),
    );
    const headCheck = github.checkRuns.find((item) =>
      item.output?.summary?.includes(headId),
    );
    // Each step links to its execution's page.
    expect(headCheck?.output?.summary).toContain(
      `${kilnUrl}/executions/${headTrain}`,
    );
  });

  it('serves the chart image of the PR comment to anyone holding the link, and nothing to a changed link', async () => {
    const images = postedImages();
    expect(images).toHaveLength(1);
    const image = images[0]!;
    expect(image).toMatch(
      new RegExp(`^${kilnUrl}/charts/${headId}\\.svg\\?base=${baseId}&sig=`),
    );
    const comment = github.comments.find((item) => item.body.includes(image));
    // The image links to the run page, where the charts are live.
    expect(comment?.body).toContain(
      `[![metric curves of this PR against main](${image})](${kilnUrl}/runs/${headId})`,
    );

    const response = await fetch(image, { redirect: 'manual' });
    const svg = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'",
    );
    expect(svg).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('accuracy · train');
    expect(svg).toContain('train_loss · train');
    // The PR's curve and the base run's (dashed).
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg).toContain(`PR #${PR} @ ${sha(2).slice(0, 7)}`);
    expect(svg).toContain(`main @ ${sha(1).slice(0, 7)}`);

    const changed = new URL(image);
    changed.searchParams.set('base', headId);
    const refused = await fetch(changed);
    expect(refused.status).toBe(404);
    const forged = new URL(image);
    forged.searchParams.set('sig', 'A'.repeat(32));
    expect((await fetch(forged)).status).toBe(404);
  });

  it('sends a reader who is not logged in to the login page, which leads back to the link', async () => {
    const link = github.statuses.at(-1)?.target_url ?? '';

    const response = await fetch(link, { redirect: 'manual' });

    expect(response.status).toBe(303);
    const login = new URL(response.headers.get('location') ?? '', kilnUrl);
    expect(login.pathname).toBe('/login');
    expect(login.searchParams.get('next')).toBe(new URL(link).pathname);
    const page = await fetch(login);
    expect(page.status).toBe(200);
  });
});

/** A training loop's metrics lines, ending at `accuracy`. */
function curve(accuracy: number): Array<Record<string, number>> {
  return [1, 2, 3, 4].map((epoch) => ({
    epoch,
    accuracy: Number((accuracy - (4 - epoch) * 0.1).toFixed(3)),
    train_loss: Number((1 / epoch).toFixed(3)),
  }));
}

function executionOf(run: RunRecord, node: string): string {
  const id = run.nodes.find((item) => item.name === node)?.executionId;
  if (!id) throw new Error(`node ${node} of run ${run.id} has no execution`);
  return id;
}
