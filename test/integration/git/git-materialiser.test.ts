import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  existsSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitError } from '../../../src/git/git-error.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import type { RepositorySource } from '../../../src/git/repository-source.js';
import {
  createTestRepo,
  git,
  makeTempDir,
  removeTempDir,
} from './git-fixture.js';
import type { TestRepo } from './git-fixture.js';

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = prefix + entry.name;
    return entry.isDirectory()
      ? listFiles(join(dir, entry.name), `${path}/`)
      : [path];
  });
}

describe('GitMaterialiser', () => {
  let root: string;
  let origin: TestRepo;
  let source: RepositorySource;
  let materialiser: GitMaterialiser;

  beforeEach(() => {
    root = makeTempDir('git');
    origin = createTestRepo(join(root, 'origin'));
    source = { id: 'local/origin', url: origin.dir };
    materialiser = new GitMaterialiser({
      cacheDir: join(root, 'cache'),
      fetchRetryDelayMs: 10,
    });
  });

  afterEach(() => {
    removeTempDir(root);
  });

  it('fetches a commit once and finds it again without the origin', async () => {
    const sha = origin.commit('first', { 'kiln.yaml': 'a: 1\n' });

    await materialiser.ensureCommit(source, sha);
    renameSync(origin.dir, join(root, 'origin-gone'));
    await materialiser.ensureCommit(source, sha);

    const content = await materialiser.readFile(source, sha, 'kiln.yaml');
    expect(content?.toString()).toBe('a: 1\n');
  });

  it('fetches a commit that no branch points to any more', async () => {
    const first = origin.commit('first', { 'a.txt': 'one' });
    origin.commit('second', { 'a.txt': 'two' });
    git(origin.dir, ['reset', '-q', '--hard', first]);
    const dangling = origin.commit('third', { 'a.txt': 'three' });
    git(origin.dir, ['reset', '-q', '--hard', first]);

    const content = await materialiser.readFile(source, dangling, 'a.txt');

    expect(content?.toString()).toBe('three');
  });

  it('reports COMMIT_NOT_FOUND for a SHA the origin does not have', async () => {
    origin.commit('first', { 'a.txt': 'one' });
    const missing = 'ab'.repeat(20);

    const error = await materialiser
      .ensureCommit(source, missing)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).code).toBe('COMMIT_NOT_FOUND');
  });

  it('reports FETCH_FAILED when the origin cannot be reached', async () => {
    const sha = origin.commit('first', { 'a.txt': 'one' });
    const unreachable = { id: 'gone', url: join(root, 'nowhere') };

    const error = await materialiser
      .ensureCommit(unreachable, sha)
      .catch((caught: unknown) => caught);

    expect((error as GitError).code).toBe('FETCH_FAILED');
  });

  it('reads each version of a file and null for a missing path', async () => {
    const v1 = origin.commit('v1', { 'conf/kiln.yaml': 'version: 1\n' });
    const v2 = origin.commit('v2', { 'conf/kiln.yaml': 'version: 2\n' });

    const [one, two, missing, directory] = await Promise.all([
      materialiser.readFile(source, v1, 'conf/kiln.yaml'),
      materialiser.readFile(source, v2, 'conf/kiln.yaml'),
      materialiser.readFile(source, v2, 'conf/other.yaml'),
      materialiser.readFile(source, v2, 'conf'),
    ]);

    expect(one?.toString()).toBe('version: 1\n');
    expect(two?.toString()).toBe('version: 2\n');
    expect(missing).toBeNull();
    expect(directory).toBeNull();
  });

  it('refuses a file above maxBytes before reading it', async () => {
    const sha = origin.commit('big', {
      'kiln.yaml': Buffer.alloc(2 * 1024 * 1024, 0x61),
    });

    const error = await materialiser
      .readFile(source, sha, 'kiln.yaml', { maxBytes: 1024 * 1024 })
      .catch((caught: unknown) => caught);

    expect((error as GitError).code).toBe('FILE_TOO_LARGE');
  });

  it.each(['', '/etc/passwd', '../x', 'a/../../b', 'a//b', './kiln.yaml'])(
    'refuses the repository path %j',
    async (path) => {
      const sha = origin.commit('first', { 'kiln.yaml': 'a: 1\n' });

      const error = await materialiser
        .readFile(source, sha, path)
        .catch((caught: unknown) => caught);

      expect((error as GitError).code).toBe('INVALID_PATH');
    },
  );

  it('lists the paths changed between two commits', async () => {
    const base = origin.commit('base', {
      'src/a.py': 'a',
      'src/b.py': 'b',
      'README.md': 'r',
    });
    origin.write('src/b.py', 'b2');
    origin.write('docs/new.md', 'n');
    git(origin.dir, ['rm', '-q', 'README.md']);
    const head = origin.commit('head');

    const changed = await materialiser.changedPaths(source, base, head);
    const fromNothing = await materialiser.changedPaths(source, null, head);
    const fromZeros = await materialiser.changedPaths(
      source,
      '0'.repeat(40),
      head,
    );

    expect(changed).toEqual(['README.md', 'docs/new.md', 'src/b.py']);
    expect(fromNothing).toEqual([]);
    expect(fromZeros).toEqual([]);
  });

  it('exports a read-only tree equal to the commit', async () => {
    const sha = origin.commit('first', {
      'kiln.yaml': 'a: 1\n',
      'src/train.py': 'print(1)\n',
      '.gitattributes': 'src/train.py export-ignore\n',
    });

    const tree = await materialiser.acquireTree(source, sha);

    expect(tree.sha).toBe(sha);
    expect(listFiles(tree.path).sort()).toEqual(
      git(origin.dir, ['ls-tree', '-r', '--name-only', sha]).split('\n').sort(),
    );
    expect(readFileSync(join(tree.path, 'src/train.py'), 'utf8')).toBe(
      'print(1)\n',
    );
    for (const path of ['kiln.yaml', 'src', 'src/train.py', '.']) {
      expect(lstatSync(join(tree.path, path)).mode & 0o222).toBe(0);
    }
    await tree.release();
  });

  it('keeps the executable bit of scripts, without write bits', async () => {
    origin.write('run.sh', '#!/bin/sh\necho hi\n');
    chmodSync(join(origin.dir, 'run.sh'), 0o755);
    const sha = origin.commit('script');

    const tree = await materialiser.acquireTree(source, sha);

    expect(lstatSync(join(tree.path, 'run.sh')).mode & 0o777).toBe(0o555);
    await tree.release();
  });

  it('shares one tree between concurrent holders and removes it after both release', async () => {
    const sha = origin.commit('first', { 'kiln.yaml': 'a: 1\n' });

    const [first, second] = await Promise.all([
      materialiser.acquireTree(source, sha),
      materialiser.acquireTree(source, sha),
    ]);
    expect(second.path).toBe(first.path);
    await first.release();
    await first.release();
    const stillThere = existsSync(join(second.path, 'kiln.yaml'));
    await second.release();

    expect(stillThere).toBe(true);
    expect(existsSync(first.path)).toBe(false);
  });

  it('does not check out submodules by default', async () => {
    const library = createTestRepo(join(root, 'library'));
    library.commit('lib', { 'lib.py': 'x = 1\n' });
    git(origin.dir, [
      '-c',
      'protocol.file.allow=always',
      'submodule',
      'add',
      '-q',
      library.dir,
      'vendor/lib',
    ]);
    const sha = origin.commit('with submodule', { 'kiln.yaml': 'a: 1\n' });

    const tree = await materialiser.acquireTree(source, sha);

    expect(existsSync(join(tree.path, '.gitmodules'))).toBe(true);
    expect(existsSync(join(tree.path, 'vendor/lib/lib.py'))).toBe(false);
    await tree.release();
  });

  it('checks out submodules when asked, read-only', async () => {
    const library = createTestRepo(join(root, 'library'));
    library.commit('lib', { 'lib.py': 'x = 1\n' });
    git(origin.dir, [
      '-c',
      'protocol.file.allow=always',
      'submodule',
      'add',
      '-q',
      library.dir,
      'vendor/lib',
    ]);
    const sha = origin.commit('with submodule', { 'kiln.yaml': 'a: 1\n' });

    const tree = await materialiser.acquireTree(source, sha, {
      submodules: true,
    });

    const libPath = join(tree.path, 'vendor/lib/lib.py');
    expect(readFileSync(libPath, 'utf8')).toBe('x = 1\n');
    expect(lstatSync(libPath).mode & 0o222).toBe(0);
    expect(lstatSync(join(tree.path, 'vendor/lib')).mode & 0o222).toBe(0);
    await tree.release();
  });

  it('removes leftover temp and unheld trees on reap and never reuses them', async () => {
    const sha = origin.commit('first', { 'kiln.yaml': 'a: 1\n' });
    const trees = join(root, 'cache', 'trees');
    mkdirSync(join(trees, '.tmp-crashed', 'half'), { recursive: true });
    mkdirSync(join(trees, sha), { recursive: true });

    const removed = await materialiser.reap();
    const tree = await materialiser.acquireTree(source, sha);

    expect(removed).toBe(2);
    expect(readdirSync(trees)).toEqual([sha]);
    expect(readFileSync(join(tree.path, 'kiln.yaml'), 'utf8')).toBe('a: 1\n');
    await tree.release();
  });
});
