import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GitError } from '../../../src/git/git-error.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import { inspectWorkTree } from '../../../src/git/inspect-work-tree.js';
import { resolveRevision } from '../../../src/git/resolve-revision.js';
import { snapshotWorkTree } from '../../../src/git/snapshot-work-tree.js';
import {
  createTestRepo,
  git,
  makeTempDir,
  removeTempDir,
} from './git-fixture.js';
import type { TestRepo } from './git-fixture.js';

describe('local work trees', () => {
  let root: string;
  let repo: TestRepo;

  beforeEach(() => {
    root = makeTempDir('git-work');
    repo = createTestRepo(join(root, 'repo'));
  });

  afterEach(() => {
    removeTempDir(root);
  });

  it('reports a clean work tree with its HEAD', async () => {
    const sha = repo.commit('first', {
      'kiln.yaml': 'a: 1\n',
      '.gitignore': 'build/\n',
    });
    repo.write('build/out.bin', 'ignored');

    const state = await inspectWorkTree(join(repo.dir, 'build'));

    expect(state).toEqual({
      root: repo.dir,
      headSha: sha,
      dirty: false,
      dirtyPaths: [],
    });
  });

  it('counts modified, staged, deleted and untracked files as dirty', async () => {
    repo.commit('first', { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
    repo.write('a.txt', 'changed');
    repo.write('new/untracked.txt', 'u');
    repo.write('b.txt', 'staged');
    git(repo.dir, ['add', 'b.txt']);
    git(repo.dir, ['rm', '-q', 'c.txt']);

    const state = await inspectWorkTree(repo.dir);

    expect(state.dirty).toBe(true);
    expect(state.dirtyPaths).toEqual([
      'a.txt',
      'b.txt',
      'c.txt',
      'new/untracked.txt',
    ]);
  });

  it('reports a repository without commits', async () => {
    repo.write('a.txt', 'a');

    const state = await inspectWorkTree(repo.dir);

    expect(state.headSha).toBeNull();
    expect(state.dirtyPaths).toEqual(['a.txt']);
  });

  it('refuses a directory outside any repository', async () => {
    const error = await inspectWorkTree(root).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    expect((error as GitError).code).toBe('NOT_A_REPOSITORY');
  });

  it('snapshots the work tree without touching the index', async () => {
    repo.commit('first', { 'a.txt': 'a', '.gitignore': '*.log\n' });
    repo.write('a.txt', 'edited');
    repo.write('untracked.py', 'print(1)\n');
    repo.write('debug.log', 'ignored');
    const indexBefore = readFileSync(join(repo.dir, '.git', 'index'));
    const statusBefore = git(repo.dir, ['status', '--porcelain']);

    const first = await snapshotWorkTree(repo.dir);
    const again = await snapshotWorkTree(repo.dir);
    writeFileSync(join(repo.dir, 'a.txt'), 'edited twice');
    const edited = await snapshotWorkTree(repo.dir);

    expect(again).toEqual(first);
    expect(first.identifier).toMatch(/^~[0-9a-f]{64}$/);
    expect(edited.identifier).not.toBe(first.identifier);
    expect(git(repo.dir, ['ls-tree', '--name-only', first.treeSha])).toBe(
      ['.gitignore', 'a.txt', 'untracked.py'].join('\n'),
    );
    expect(readFileSync(join(repo.dir, '.git', 'index'))).toEqual(indexBefore);
    expect(git(repo.dir, ['status', '--porcelain'])).toBe(
      statusBefore.replace(' M a.txt', ' M a.txt'),
    );
  });

  it('materialises a snapshot tree of a local repository', async () => {
    repo.commit('first', { 'a.txt': 'a' });
    repo.write('a.txt', 'uncommitted');
    const { treeSha } = await snapshotWorkTree(repo.dir);
    const materialiser = new GitMaterialiser({
      cacheDir: join(root, 'cache'),
    });

    const tree = await materialiser.acquireTree(
      { id: 'local', url: repo.dir },
      treeSha,
    );

    expect(readFileSync(join(tree.path, 'a.txt'), 'utf8')).toBe('uncommitted');
    await tree.release();
  });

  it('resolves branches, tags and short ids to commits', async () => {
    const first = repo.commit('first', { 'a.txt': 'a' });
    git(repo.dir, ['tag', '-a', '-m', 'v1', 'v1']);
    const second = repo.commit('second', { 'a.txt': 'b' });

    const resolved = await Promise.all([
      resolveRevision(repo.dir, 'HEAD'),
      resolveRevision(repo.dir, 'main'),
      resolveRevision(repo.dir, 'v1'),
      resolveRevision(repo.dir, first.slice(0, 10)),
    ]);
    const unknown = await resolveRevision(repo.dir, 'no-such-branch').then(
      () => undefined,
      (caught: unknown) => caught,
    );

    expect(resolved).toEqual([second, second, first, first]);
    expect((unknown as GitError).code).toBe('INVALID_REVISION');
  });

  it('reads the committed tree, not the work tree, after a rename of the repo', async () => {
    const sha = repo.commit('first', { 'a.txt': 'committed' });
    repo.write('a.txt', 'dirty');
    const materialiser = new GitMaterialiser({
      cacheDir: join(root, 'cache'),
    });
    const source = { id: 'local', url: repo.dir };
    await materialiser.ensureCommit(source, sha);
    renameSync(repo.dir, join(root, 'moved'));

    const content = await materialiser.readFile(source, sha, 'a.txt');

    expect(content?.toString()).toBe('committed');
  });
});
