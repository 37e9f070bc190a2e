import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitError } from '../../../src/git/git-error.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import { resolveRevision } from '../../../src/git/resolve-revision.js';
import {
  createTestRepo,
  git,
  makeTempDir,
  removeTempDir,
} from './git-fixture.js';
import type { TestRepo } from './git-fixture.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GitError);
  return (error as GitError).code;
}

describe('hostile inputs to the git adapter', () => {
  let root: string;
  let sentinel: string;
  let origin: TestRepo;
  let materialiser: GitMaterialiser;

  beforeEach(() => {
    root = makeTempDir('git-hostile');
    sentinel = join(root, 'pwned');
    origin = createTestRepo(join(root, 'origin'));
    materialiser = new GitMaterialiser({
      cacheDir: join(root, 'cache'),
      fetchRetryDelayMs: 10,
      fetchAttempts: 1,
    });
  });

  afterEach(() => {
    removeTempDir(root);
  });

  it.each([
    `--upload-pack=touch ${'x'}`,
    '-oProxyCommand=touch x',
    'main',
    '$(touch x)',
    'HEAD',
    'ABCDEF'.repeat(7).slice(0, 40),
    'a'.repeat(39),
    '0'.repeat(40),
  ])('refuses the sha %j before running git', async (sha) => {
    const source = { id: 'o', url: origin.dir };

    const code = await codeOf(materialiser.ensureCommit(source, sha));

    expect(code).toBe('INVALID_SHA');
    expect(existsSync(join(root, 'cache', 'mirrors'))).toBe(false);
  });

  it.each([
    `--upload-pack=touch ${'SENTINEL'}`,
    '-u touch SENTINEL',
    'ext::sh -c touch% SENTINEL',
    'relative/path',
    'https://user:secret@example.com/repo.git',
    'ftp://example.com/repo.git',
    'https://example.com/repo.git\n--upload-pack=x',
  ])('refuses the source url %j before running git', async (template) => {
    const sha = origin.commit('first', { 'a.txt': 'a' });
    const url = template.replace('SENTINEL', sentinel);

    const code = await codeOf(
      materialiser.ensureCommit({ id: 'evil', url }, sha),
    );

    expect(code).toBe('INVALID_SOURCE');
    expect(existsSync(sentinel)).toBe(false);
  });

  it('treats hostile branch names in the origin as data', async () => {
    const names = [
      '--upload-pack=touch_x',
      '$(touch_x)',
      '`id`',
      'a;b',
      'x'.repeat(200),
    ];
    const sha = origin.commit('first', { 'a.txt': 'a' });
    for (const name of names.filter((n) => !n.startsWith('-'))) {
      git(origin.dir, ['branch', '--', name]);
    }
    // git refuses to create a branch named like an option; a raw ref works.
    git(origin.dir, ['update-ref', `refs/heads/${names[0]}`, sha]);
    const missing = 'cd'.repeat(20);

    const code = await codeOf(
      materialiser.ensureCommit({ id: 'o', url: origin.dir }, missing),
    );
    const content = await materialiser.readFile(
      { id: 'o', url: origin.dir },
      sha,
      'a.txt',
    );

    expect(code).toBe('COMMIT_NOT_FOUND');
    expect(content?.toString()).toBe('a');
    expect(existsSync(join(root, 'touch_x'))).toBe(false);
  });

  it.each(['--output=/tmp/x', '-h', '', 'a\nb'])(
    'refuses the revision %j',
    async (rev) => {
      const code = await codeOf(resolveRevision(origin.dir, rev));

      expect(code).toBe('INVALID_REVISION');
    },
  );

  it('sends the token as a header and never shows it in errors', async () => {
    const token = 'ghs_s3cr3t-token-value';
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(String(request.headers.authorization));
      response.statusCode = 404;
      response.end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    const source = {
      id: 'http/origin',
      url: `http://127.0.0.1:${port}/acme/models.git`,
      token,
    };

    const error = await materialiser.ensureCommit(source, 'ef'.repeat(20)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    await new Promise((done) => server.close(done));

    const expected = `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
    expect(seen).toContain(expected);
    expect(error).toBeInstanceOf(GitError);
    const { code, message, stack } = error as GitError;
    // A 404 is how GitHub refuses a repository the token cannot see.
    expect(code).toBe('ACCESS_DENIED');
    expect(message).toMatch(/^kiln has no access to http\/origin: /);
    expect(`${message}${stack}`).not.toContain(token);
  });
});
