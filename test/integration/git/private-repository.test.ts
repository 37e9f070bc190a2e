/**
 * Private repositories through the GitHub App, end to end over real HTTP:
 * the stand-in mints installation tokens through the App JWT flow and
 * serves bare repositories with `git http-backend`, refusing requests
 * without a valid installation token for that repository. Laid out like
 * GitHub Enterprise Server: the API under /api/v3, git on the same origin.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitCredentials } from '../../../src/forge/github/create-git-credentials.js';
import { createGithubClient } from '../../../src/forge/github/create-github-client.js';
import { GitError } from '../../../src/git/git-error.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import type { RepositorySource } from '../../../src/git/repository-source.js';
import { createGitArgvRecorder } from '../../helpers/git-argv-recorder.js';
import {
  startGithubStandIn,
  type GithubStandIn,
  type GithubStandInOptions,
} from '../../helpers/github-stand-in.js';
import { git, makeTempDir, removeTempDir } from './git-fixture.js';
import {
  createServedRepo,
  servedMap,
  type ServedRepo,
} from './served-repos.js';

const execFileAsync = promisify(execFile);
const APP_ID = '4242';
const INSTALLATION = 77;
const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
});
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function basic(token: string): string {
  return Buffer.from(`x-access-token:${token}`).toString('base64');
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('private repositories over git smart HTTP', () => {
  let root: string;
  let privateRepo: ServedRepo;
  let otherRepo: ServedRepo;
  let stand: GithubStandIn;
  let elsewhere: GithubStandIn | undefined;

  beforeEach(() => {
    root = makeTempDir('private');
    privateRepo = createServedRepo(root, 'acme/private');
    otherRepo = createServedRepo(root, 'acme/other');
  });
  afterEach(async () => {
    await stand?.close();
    await elsewhere?.close();
    elsewhere = undefined;
    removeTempDir(root);
  });

  async function startStandIn(
    options: Partial<GithubStandInOptions> = {},
  ): Promise<GithubStandIn> {
    stand = await startGithubStandIn({
      app: { id: APP_ID, publicKey },
      installations: { 'acme/private': INSTALLATION },
      apiPrefix: '/api/v3',
      git: { repositories: servedMap([privateRepo, otherRepo]) },
      ...options,
    });
    return stand;
  }

  function appMaterialiser(marginMs = 300_000): GitMaterialiser {
    const github = createGithubClient({
      settings: {
        githubApiUrl: stand.url,
        githubAppId: APP_ID,
        githubPrivateKey: PEM,
      },
      logger: pino({ level: 'silent' }),
      retries: 0,
      tokenRefreshMarginMs: marginMs,
    });
    return new GitMaterialiser({
      cacheDir: join(root, 'cache'),
      fetchRetryDelayMs: 10,
      credentials: createGitCredentials({ github, apiUrl: stand.url }),
    });
  }

  function sourceOf(repo: ServedRepo, origin = stand.origin): RepositorySource {
    return { id: `github.com/${repo.name}`, url: `${origin}/${repo.name}.git` };
  }

  it('refuses anonymous git, and kiln reads the YAML and the tree with a token scoped to the repository', async () => {
    const sha = privateRepo.commit({ 'kiln.yaml': 'steps: 1\n', 'a.py': 'x' });
    await startStandIn();
    const anonymous = await execFileAsync(
      'git',
      ['ls-remote', '--', `${stand.origin}/acme/private.git`],
      { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
    ).catch((error: Error) => error);
    const git = appMaterialiser();

    const yaml = await git.readFile(sourceOf(privateRepo), sha, 'kiln.yaml');
    const tree = await git.acquireTree(sourceOf(privateRepo), sha);

    expect(anonymous).toBeInstanceOf(Error);
    expect(stand.gitRequests[0]).toMatchObject({ status: 401 });
    expect(yaml?.toString()).toBe('steps: 1\n');
    expect(readFileSync(join(tree.path, 'a.py'), 'utf8')).toBe('x');
    await tree.release();
    expect(stand.mintedTokens).toHaveLength(1);
    expect(stand.mintedTokens[0]).toMatchObject({
      installationId: INSTALLATION,
      repositories: ['acme/private'],
      permissions: { contents: 'read' },
    });
    const fetched = stand.gitRequests.filter((item) => item.status === 200);
    expect(fetched.length).toBeGreaterThanOrEqual(2);
    for (const request of fetched) {
      expect(request.token).toBe(stand.mintedTokens[0]?.token);
    }
    stand.assertNoInvalidRequests();
  });

  it('fetches a private submodule of the same installation with its own token', async () => {
    const lib = createServedRepo(root, 'acme/lib');
    lib.commit({ 'lib.py': 'x = 1\n' });
    git(privateRepo.work.dir, [
      '-c',
      'protocol.file.allow=always',
      'submodule',
      'add',
      '-q',
      lib.bareDir,
      'vendor/lib',
    ]);
    // Relative, as on GitHub: resolved against the parent's clone URL.
    git(privateRepo.work.dir, [
      'config',
      '-f',
      '.gitmodules',
      'submodule.vendor/lib.url',
      '../lib.git',
    ]);
    const sha = privateRepo.commit({ 'kiln.yaml': 'a: 1\n' });
    await startStandIn({
      installations: { 'acme/private': INSTALLATION, 'acme/lib': INSTALLATION },
      git: { repositories: servedMap([privateRepo, lib]) },
    });
    const materialiser = appMaterialiser();

    const tree = await materialiser.acquireTree(sourceOf(privateRepo), sha, {
      submodules: true,
    });

    expect(readFileSync(join(tree.path, 'vendor/lib/lib.py'), 'utf8')).toBe(
      'x = 1\n',
    );
    await tree.release();
    expect(stand.mintedTokens.map((item) => item.repositories)).toEqual([
      ['acme/private'],
      ['acme/lib'],
    ]);
    const libToken = stand.mintedTokens[1]?.token;
    const libRequests = stand.gitRequests.filter(
      (item) => item.repository === 'acme/lib',
    );
    expect(libRequests.length).toBeGreaterThanOrEqual(2);
    expect(libRequests.every((item) => item.token === libToken)).toBe(true);
  });

  it('resolves a branch and an annotated tag with ls-remote and the token', async () => {
    const first = privateRepo.commit({ 'kiln.yaml': 'a: 1\n' });
    privateRepo.tag('v1', first);
    const second = privateRepo.commit({ 'kiln.yaml': 'a: 2\n' });
    await startStandIn();
    const git = appMaterialiser();

    const main = await git.resolveRef(sourceOf(privateRepo), 'main');
    const tag = await git.resolveRef(sourceOf(privateRepo), 'v1');
    const none = await git.resolveRef(sourceOf(privateRepo), 'nope');

    expect(main).toEqual({ sha: second, ref: 'refs/heads/main' });
    expect(tag).toEqual({ sha: first, ref: 'refs/tags/v1' });
    expect(none).toBeNull();
    expect(stand.gitRequests.every((item) => item.token !== undefined)).toBe(
      true,
    );
  });

  it('replaces a token before it expires: the cached one while valid, then a new one', async () => {
    await startStandIn({ tokenLifetimeMs: 3000 });
    const git = appMaterialiser(1500);
    const one = privateRepo.commit({ 'a.txt': '1' });
    await git.ensureCommit(sourceOf(privateRepo), one);
    const two = privateRepo.commit({ 'a.txt': '2' });
    await git.ensureCommit(sourceOf(privateRepo), two);
    expect(stand.mintedTokens).toHaveLength(1);
    const first = stand.mintedTokens[0]!;
    await waitFor(() => Date.now() > first.expiresAt, 'the token to expire');

    const three = privateRepo.commit({ 'a.txt': '3' });
    await git.ensureCommit(sourceOf(privateRepo), three);

    expect(stand.mintedTokens).toHaveLength(2);
    expect(stand.gitRequests.map((item) => item.status)).not.toContain(401);
    const last = stand.gitRequests.at(-1);
    expect(last?.token).toBe(stand.mintedTokens[1]?.token);
  });

  it('mints a new token once when GitHub refuses the cached one (revoked or expired early)', async () => {
    await startStandIn();
    const git = appMaterialiser();
    const one = privateRepo.commit({ 'a.txt': '1' });
    await git.ensureCommit(sourceOf(privateRepo), one);
    stand.expireTokens();

    const two = privateRepo.commit({ 'a.txt': '2' });
    await git.ensureCommit(sourceOf(privateRepo), two);

    expect(stand.mintedTokens).toHaveLength(2);
    const statuses = stand.gitRequests.map((item) => item.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(1);
    expect(stand.gitRequests.at(-1)?.token).toBe(stand.mintedTokens[1]?.token);
  });

  it('follows the App to its new installation when it is reinstalled', async () => {
    const installations = { 'acme/private': INSTALLATION };
    await startStandIn({ installations });
    const git = appMaterialiser();
    const one = privateRepo.commit({ 'a.txt': '1' });
    await git.ensureCommit(sourceOf(privateRepo), one);
    installations['acme/private'] = INSTALLATION + 1;

    const two = privateRepo.commit({ 'a.txt': '2' });
    await git.ensureCommit(sourceOf(privateRepo), two);

    expect(stand.mintedTokens.map((item) => item.installationId)).toEqual([
      INSTALLATION,
      INSTALLATION + 1,
    ]);
    expect(stand.gitRequests.at(-1)).toMatchObject({
      status: 200,
      token: stand.mintedTokens[1]?.token,
    });
  });

  it('says "install the App on it" for a repository outside the installation, without retrying', async () => {
    const sha = otherRepo.commit({ 'kiln.yaml': 'a: 1\n' });
    await startStandIn();
    const git = appMaterialiser();
    const started = Date.now();

    const error = await git
      .readFile(sourceOf(otherRepo), sha, 'kiln.yaml')
      .catch((caught: unknown) => caught);
    const listing = await git
      .resolveRef(sourceOf(otherRepo), 'main')
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(GitError);
    expect(error).toMatchObject({
      code: 'ACCESS_DENIED',
      retryable: false,
      message: 'kiln has no access to acme/other: install the App on it',
    });
    expect(listing).toMatchObject({
      code: 'ACCESS_DENIED',
      message: 'kiln has no access to acme/other: install the App on it',
    });
    expect(stand.mintedTokens).toHaveLength(0);
    // One refused request per command: no retry rounds, no backoff.
    expect(stand.gitRequests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('uses KILN_GITHUB_TOKEN the same way', async () => {
    const sha = privateRepo.commit({ 'kiln.yaml': 'a: 1\n' });
    await startStandIn({ tokens: ['ghp_operator'] });
    const github = createGithubClient({
      settings: { githubApiUrl: stand.url, githubToken: 'ghp_operator' },
      logger: pino({ level: 'silent' }),
    });
    const git = new GitMaterialiser({
      cacheDir: join(root, 'cache'),
      credentials: createGitCredentials({ github, apiUrl: stand.url }),
    });

    const yaml = await git.readFile(sourceOf(privateRepo), sha, 'kiln.yaml');

    expect(yaml?.toString()).toBe('a: 1\n');
    expect(stand.gitRequests.at(-1)).toMatchObject({
      status: 200,
      token: 'ghp_operator',
    });
  });

  it('sends the token only to the GitHub origin: not to another host, not after a redirect', async () => {
    const mirror = createServedRepo(root, 'acme/mirror');
    const sha = mirror.commit({ 'kiln.yaml': 'a: 1\n' });
    elsewhere = await startGithubStandIn({
      git: {
        repositories: servedMap([mirror]),
        publicRepositories: ['acme/mirror'],
      },
    });
    await startStandIn({
      installations: {
        'acme/private': INSTALLATION,
        'acme/moved': INSTALLATION,
      },
      git: {
        repositories: servedMap([privateRepo]),
        redirects: { 'acme/moved': `${elsewhere.origin}/acme/mirror.git` },
      },
    });
    const git = appMaterialiser();

    const direct = await git.readFile(
      sourceOf(mirror, elsewhere.origin),
      sha,
      'kiln.yaml',
    );
    const seenElsewhere = elsewhere.gitRequests.length;
    const moved = await git
      .readFile(
        { id: 'github.com/acme/moved', url: `${stand.origin}/acme/moved.git` },
        sha,
        'kiln.yaml',
      )
      .catch((caught: unknown) => caught);

    expect(direct?.toString()).toBe('a: 1\n');
    expect(seenElsewhere).toBeGreaterThanOrEqual(2);
    for (const request of elsewhere.gitRequests) {
      expect(request.authorization).toBeUndefined();
    }
    // With a token, the redirect is not followed at all.
    expect(moved).toMatchObject({ code: 'FETCH_FAILED' });
    expect(String(moved)).toContain('301');
    expect(stand.gitRequests[0]).toMatchObject({ status: 301 });
    expect(stand.gitRequests[0]?.token).toBeDefined();
    expect(elsewhere.gitRequests).toHaveLength(seenElsewhere);
  });

  it('never puts the token in argv, URLs or error messages', async () => {
    const sha = privateRepo.commit({ 'kiln.yaml': 'a: 1\n' });
    const missing = 'ab'.repeat(20);
    await startStandIn();
    const recorder = createGitArgvRecorder(join(root, 'argv'));
    const restore = recorder.install();
    const git = appMaterialiser();
    let failure: unknown;
    try {
      await git.readFile(sourceOf(privateRepo), sha, 'kiln.yaml');
      await git.resolveRef(sourceOf(privateRepo), 'main');
      failure = await git
        .ensureCommit(sourceOf(privateRepo), missing)
        .catch((caught: unknown) => caught);
    } finally {
      restore();
    }

    const tokens = stand.mintedTokens.map((item) => item.token);
    const secrets = tokens.flatMap((token) => [token, basic(token)]);
    const lines = recorder.lines();
    expect(tokens.length).toBeGreaterThan(0);
    expect(lines.some((line) => line.startsWith("git 'fetch' "))).toBe(true);
    expect(lines.some((line) => line.startsWith("git 'ls-remote' "))).toBe(
      true,
    );
    expect(lines.some((line) => line.startsWith('git-remote-http '))).toBe(
      true,
    );
    expect(failure).toMatchObject({ code: 'COMMIT_NOT_FOUND' });
    const visible = [
      ...lines,
      ...stand.gitRequests.map((item) => item.url),
      ...stand.requests.map(
        (item) => `${item.path}?${JSON.stringify(item.query)}`,
      ),
      String(failure),
      JSON.stringify(failure),
    ].join('\n');
    for (const secret of secrets) expect(visible).not.toContain(secret);
  });
});
