/**
 * A private repository through a real `kiln up` (the composition root's
 * wiring included): a signed push delivery → intake reads kiln.yaml with
 * an installation token → the worker fetches the tree with one → the step
 * runs → statuses reach the stand-in. The stand-in mints the tokens through
 * the App JWT flow and serves git with `git http-backend`, refusing
 * requests without a valid installation token for the repository.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryLog } from '../../../src/intake/delivery-log.js';
import type { RunRecord } from '../../../src/model/run.js';
import { createTokenStore } from '../../../src/http/auth/token-store.js';
import { createStores, type Stores } from '../../../src/store/index.js';
import {
  startGithubStandIn,
  type GithubStandIn,
} from '../../helpers/github-stand-in.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import { makeTempDir, removeTempDir } from '../git/git-fixture.js';
import {
  createServedRepo,
  servedMap,
  type ServedRepo,
} from '../git/served-repos.js';
import { pushPayload, signBytes } from '../intake/intake-fixture.js';

const KILN_BIN = resolve(import.meta.dirname, '../../../bin/kiln.js');
const SECRET = 'private-repo-secret';
const PREFIX = 'kp';
const KILN_YAML = `- step:
    name: train
    image: busybox
    command: cat data.txt
- trigger:
    name: on-push
    on: [push]
    branches: [main]
    run: train
`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  return typeof address === 'object' && address ? address.port : 0;
}

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  describeState: () => string,
): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${describeState()}`);
    await sleep(100);
  }
}

/** Every value stored under the prefix, as text. */
async function storedText(redis: Redis): Promise<string> {
  const parts: string[] = [];
  for (const key of await redis.keys('*')) {
    const type = await redis.type(key);
    if (type === 'string') parts.push((await redis.get(key)) ?? '');
    if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
    if (type === 'list') parts.push(...(await redis.lrange(key, 0, -1)));
    if (type === 'set') parts.push(...(await redis.smembers(key)));
    if (type === 'zset') parts.push(...(await redis.zrange(key, 0, -1)));
    if (type === 'stream')
      parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
  }
  return parts.join('\n');
}

describe.skipIf(!haveRedis())('a private repository through kiln up', () => {
  let redis: TestRedis;
  let client: Redis;
  let stores: Stores;
  let root: string;
  let models: ServedRepo;
  let secret: ServedRepo;
  let stand: GithubStandIn;
  let kiln: ChildProcess;
  let output = '';
  let kilnUrl: string;
  let mainSha: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
    stores = createStores(client, { prefix: PREFIX });
    root = makeTempDir('kiln-up-private');
    models = createServedRepo(root, 'acme/models');
    secret = createServedRepo(root, 'acme/secret');
    mainSha = models.commit({
      'kiln.yaml': KILN_YAML,
      'data.txt': 'only in the private repository\n',
    });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    stand = await startGithubStandIn({
      app: { id: '808', publicKey },
      installations: { 'acme/models': 91 },
      apiPrefix: '/api/v3',
      git: { repositories: servedMap([models, secret]) },
    });
    const port = await freePort();
    kilnUrl = `http://127.0.0.1:${port}`;
    kiln = spawn(process.execPath, [KILN_BIN, 'up'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        REDIS_URL: redis.url,
        KILN_REDIS_PREFIX: PREFIX,
        KILN_DATA_DIR: join(root, 'data'),
        KILN_HOST: '127.0.0.1',
        KILN_PORT: String(port),
        KILN_PUBLIC_URL: kilnUrl,
        KILN_RUNTIME: 'local',
        KILN_WEBHOOK_SECRET: SECRET,
        KILN_GITHUB_API_URL: stand.url,
        KILN_GITHUB_APP_ID: '808',
        KILN_GITHUB_PRIVATE_KEY: privateKey
          .export({ type: 'pkcs8', format: 'pem' })
          .toString(),
        // Everything kiln logs is checked for tokens below.
        KILN_LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    kiln.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    kiln.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      'kiln up to listen',
      () => {
        if (kiln.exitCode !== null) throw new Error(`kiln exited:\n${output}`);
        return output.includes('kiln is listening') ? true : undefined;
      },
      () => output.slice(-3000),
    );
  });
  afterAll(async () => {
    if (kiln && kiln.exitCode === null) {
      const exited = new Promise((done) => kiln.once('exit', done));
      kiln.kill('SIGTERM');
      await exited;
    }
    client?.disconnect();
    await stand?.close();
    await redis?.close();
    if (root) removeTempDir(root);
  });

  async function deliverPush(repo: ServedRepo, sha: string): Promise<string> {
    const delivery = randomUUID();
    const payload = {
      ...pushPayload({
        bareDir: `${stand.origin}/${repo.name}.git`,
        repository: repo.name,
        branch: 'main',
        after: sha,
      }),
      installation: { id: 91 },
    };
    const body = Buffer.from(JSON.stringify(payload));
    const response = await fetch(`${kilnUrl}/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': delivery,
        'x-hub-signature-256': signBytes(SECRET, body),
      },
      body,
    });
    expect(response.status).toBe(202);
    return delivery;
  }

  it('runs the pipeline of a push: kiln.yaml and the tree are fetched with a token scoped to the repository', async () => {
    await deliverPush(models, mainSha);

    const run = await waitFor<RunRecord>(
      'the run to complete',
      async () => {
        const [found] = await stores.runs.listRuns({
          repository: 'acme/models',
          limit: 5,
        });
        return found && ['complete', 'error'].includes(found.status)
          ? found
          : undefined;
      },
      () => output.slice(-4000),
    );
    expect(run).toMatchObject({ status: 'complete', commit: mainSha });
    const [execution] = await stores.executions.listExecutions({
      runId: run.id,
      limit: 10,
    });
    const log = await stores.executions.readLog(execution?.id ?? '', {
      limit: 100,
    });
    expect(log.map((line) => line.text)).toContain(
      'only in the private repository',
    );
    const gitTokens = stand.mintedTokens.filter(
      (item) => item.repositories !== undefined,
    );
    expect(gitTokens.length).toBeGreaterThanOrEqual(1);
    for (const token of gitTokens) {
      expect(token).toMatchObject({
        repositories: ['acme/models'],
        permissions: { contents: 'read' },
      });
    }
    const served = stand.gitRequests.filter((item) => item.status === 200);
    expect(served.length).toBeGreaterThanOrEqual(2);
    expect(
      served.every((item) =>
        gitTokens.some((token) => token.token === item.token),
      ),
    ).toBe(true);
    await waitFor(
      'the final status',
      () =>
        stand
          .statusesFor('acme/models', mainSha)
          .some((item) => item.state === 'success')
          ? true
          : undefined,
      () => JSON.stringify(stand.statuses),
    );
    stand.assertNoInvalidRequests();
  });

  it('records a push of a repository outside the installation as "install the App on it"', async () => {
    const sha = secret.commit({ 'kiln.yaml': KILN_YAML });
    const deliveries = createDeliveryLog(client, { keys: stores.keys });

    const delivery = await deliverPush(secret, sha);

    const record = await waitFor(
      'the delivery outcome',
      async () => {
        const found = await deliveries.getDelivery(delivery);
        return found && !['queued', 'received'].includes(found.status)
          ? found
          : undefined;
      },
      () => output.slice(-3000),
    );
    expect(record).toMatchObject({
      status: 'rejected',
      reason: 'kiln has no access to acme/secret: install the App on it',
    });
    expect(
      await stores.runs.listRuns({ repository: 'acme/secret', limit: 5 }),
    ).toEqual([]);
  });

  it('launches by branch name through POST /api/runs: ls-remote carries the token', async () => {
    const next = models.commit({ 'data.txt': 'second\n' });
    const { token } = await createTokenStore(client, {
      keys: stores.keys,
    }).createToken({ name: 'ci', role: 'admin' });
    const before = stand.gitRequests.length;

    const response = await fetch(`${kilnUrl}/api/runs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        repository: 'acme/models',
        ref: 'main',
        name: 'train',
        parameters: {},
      }),
    });
    const body = (await response.json()) as RunRecord;

    expect(response.status).toBe(201);
    expect(body.commit).toBe(next);
    const listing = stand.gitRequests
      .slice(before)
      .find((item) => item.url.includes('/info/refs'));
    expect(listing).toMatchObject({ status: 200 });
    expect(listing?.token).toBeDefined();
  });

  it('keeps every token out of stored records and logs', async () => {
    const tokens = stand.mintedTokens.map((item) => item.token);
    const stored = await storedText(client);

    expect(tokens.length).toBeGreaterThanOrEqual(2);
    expect(output).toContain('delivery processed');
    for (const token of tokens) {
      const header = Buffer.from(`x-access-token:${token}`).toString('base64');
      expect(stored).not.toContain(token);
      expect(stored).not.toContain(header);
      expect(output).not.toContain(token);
      expect(output).not.toContain(header);
    }
  });
});
