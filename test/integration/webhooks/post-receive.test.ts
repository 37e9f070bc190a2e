/**
 * webhooks/post-receive + send-push.mjs in a real bare repository, pushed
 * to by real git: the deliveries a listener receives (signed, GitHub's
 * shape, hostile names and messages intact), and a push that starts a run
 * in a real kiln intake.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toTriggerEvent } from '../../../src/forge/github/to-trigger-event.js';
import { verifySignature } from '../../../src/forge/github/verify-signature.js';
import { haveRedis } from '../../helpers/services.js';
import {
  KILN_YAML,
  REPOSITORY,
  SECRET,
  startIntakeFixture,
  type IntakeFixture,
} from '../intake/intake-fixture.js';

const run = promisify(execFile);
const hooks = join(import.meta.dirname, '..', '..', '..', 'webhooks');

const env = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Zoë "Q" O\'Brien',
  GIT_AUTHOR_EMAIL: 'zoe@example.com',
  GIT_COMMITTER_NAME: 'Kiln Test',
  GIT_COMMITTER_EMAIL: 'test@kiln.invalid',
};

/** Async on purpose: the listener runs in this process and must answer. */
async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await run('git', args, { cwd, env });
  return `${stdout}${stderr}`.trim();
}

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface Setup {
  dir: string;
  bare: string;
  work: string;
}

async function setUp(config: Record<string, string>): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hook-'));
  const bare = join(dir, 'team', 'iris.git');
  const work = join(dir, 'work');
  await git(dir, ['init', '-q', '--bare', '-b', 'main', bare]);
  for (const file of ['post-receive', 'send-push.mjs']) {
    copyFileSync(join(hooks, file), join(bare, 'hooks', file));
  }
  for (const [key, value] of Object.entries(config)) {
    await git(bare, ['config', '--', key, value]);
  }
  await git(dir, ['init', '-q', '-b', 'main', work]);
  await git(work, ['remote', 'add', 'origin', bare]);
  return { dir, bare, work };
}

async function commit(work: string, message: string): Promise<string> {
  await git(work, ['commit', '-q', '--allow-empty', '-m', message]);
  return git(work, ['rev-parse', 'HEAD']);
}

describe('post-receive hook → a listener', () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];
  const setups: Setup[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"status":"queued"}');
      });
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  });
  afterEach(() => {
    received.length = 0;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const setup of setups)
      rmSync(setup.dir, { recursive: true, force: true });
  });

  it('sends one signed push per ref, in the shape kiln reads', async () => {
    const setup = await setUp({
      'kiln.webhookUrl': url,
      'kiln.webhookSecret': 's3cret',
      'kiln.pusher': 'zoe',
    });
    setups.push(setup);
    const first = await commit(setup.work, 'first');
    const message = 'Ünïcode "quotes" \\ back\nslash\n\n$(touch /tmp/x) `id`';
    const second = await commit(setup.work, message);
    const branch = 'feature/"odd"&name';
    await git(setup.work, ['branch', branch]);
    const output = await git(setup.work, [
      'push',
      'origin',
      'main',
      `refs/heads/${branch}`,
    ]);
    expect(output).toContain('kiln: push of refs/heads/main delivered (202)');
    expect(received).toHaveLength(2);

    for (const delivery of received) {
      expect(delivery.headers['x-github-event']).toBe('push');
      expect(delivery.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
      expect(
        verifySignature({
          body: delivery.body,
          header: delivery.headers['x-hub-signature-256'],
          secrets: ['s3cret'],
        }).ok,
      ).toBe(true);
    }
    const payloads = received.map(
      (delivery) =>
        JSON.parse(delivery.body.toString('utf8')) as Record<string, unknown>,
    );
    const main = payloads.find((payload) => payload.ref === 'refs/heads/main');
    const other = payloads.find((payload) => payload.ref !== 'refs/heads/main');
    expect(main).toMatchObject({
      before: '0'.repeat(40),
      after: second,
      created: true,
      deleted: false,
      repository: { full_name: 'team/iris', clone_url: setup.bare },
      pusher: { name: 'zoe' },
      sender: { login: 'zoe' },
      head_commit: {
        id: second,
        message,
        author: { name: 'Zoë "Q" O\'Brien', email: 'zoe@example.com' },
      },
    });
    // Both refs are new and hold the same commits: the first delivery lists
    // them, the second has nothing new (git decides the order of refs).
    const listed = payloads.map((payload) =>
      (payload.commits as Array<{ id: string }>).map((item) => item.id),
    );
    expect(listed).toContainEqual([first, second]);
    expect(listed).toContainEqual([]);
    expect(other).toMatchObject({ ref: `refs/heads/${branch}`, after: second });

    const translated = toTriggerEvent('push', main);
    expect(translated).toMatchObject({
      event: {
        kind: 'push',
        refName: 'main',
        sha: second,
        before: null,
        repository: { fullName: 'team/iris' },
      },
    });
  });

  it('lists only the new commits of an update, and marks a forced push', async () => {
    const setup = await setUp({
      'kiln.webhookUrl': url,
      'kiln.webhookSecret': 's3cret',
    });
    setups.push(setup);
    const base = await commit(setup.work, 'base');
    await git(setup.work, ['push', '-q', 'origin', 'main']);
    const next = await commit(setup.work, 'next');
    await git(setup.work, ['push', '-q', 'origin', 'main']);
    await git(setup.work, ['reset', '-q', '--hard', base]);
    const rewritten = await commit(setup.work, 'rewritten');
    await git(setup.work, ['push', '-q', '-f', 'origin', 'main']);
    const [, update, forced] = received.map(
      (delivery) =>
        JSON.parse(delivery.body.toString('utf8')) as Record<string, unknown>,
    );
    expect(update).toMatchObject({ before: base, after: next, forced: false });
    expect((update?.commits as Array<{ id: string }>).map((c) => c.id)).toEqual(
      [next],
    );
    expect(forced).toMatchObject({
      before: next,
      after: rewritten,
      forced: true,
    });
  });

  it('never fails a push: without settings it only says what is missing', async () => {
    const setup = await setUp({});
    setups.push(setup);
    await commit(setup.work, 'first');
    const output = await git(setup.work, ['push', 'origin', 'main']);
    expect(output).toContain('set KILN_WEBHOOK_URL and KILN_WEBHOOK_SECRET');
    expect(received).toHaveLength(0);
    expect(await git(setup.bare, ['rev-parse', 'main'])).toMatch(
      /^[0-9a-f]{40}$/,
    );
  });
});

describe.skipIf(!haveRedis())('post-receive hook → kiln intake', () => {
  let fixture: IntakeFixture;
  let setup: Setup;

  beforeAll(async () => {
    fixture = await startIntakeFixture();
    setup = await setUp({
      'kiln.webhookUrl': `${fixture.url}/webhooks/github`,
      'kiln.webhookSecret': SECRET,
      'kiln.repository': REPOSITORY,
    });
  });
  afterAll(async () => {
    await fixture?.close();
    if (setup) rmSync(setup.dir, { recursive: true, force: true });
  });

  it('a push to main starts the run its trigger names, at the pushed commit', async () => {
    writeFileSync(join(setup.work, 'kiln.yaml'), KILN_YAML);
    await git(setup.work, ['add', 'kiln.yaml']);
    const sha = await commit(setup.work, 'add kiln.yaml');
    const output = await git(setup.work, ['push', 'origin', 'main']);
    expect(output).toContain('(202)');
    const runs = fixture.control.runs;
    let found = await runs.listRuns({ repository: REPOSITORY, limit: 10 });
    for (let i = 0; i < 300 && found.length === 0; i += 1) {
      await sleep(100);
      found = await runs.listRuns({ repository: REPOSITORY, limit: 10 });
    }
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      name: 'train',
      commit: sha,
      ref: 'refs/heads/main',
      trigger: { event: 'push' },
    });
  });
});
