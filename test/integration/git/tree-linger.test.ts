/** A released tree lingers for the next step on the same commit. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import { createRepo, git } from '../../helpers/git-repo.js';

describe('tree linger', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0))
      rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a released tree and hands the same one out again', async () => {
    const repo = createRepo({ 'train.py': 'print(1)\n' });
    const cacheDir = mkdtempSync(join(tmpdir(), 'kiln-linger-'));
    dirs.push(repo, cacheDir);
    const sha = git(repo, 'rev-parse', 'HEAD');
    const source = { id: 'acme/linger', url: repo };
    const git1 = new GitMaterialiser({ cacheDir, treeLingerMs: 60_000 });
    const first = await git1.acquireTree(source, sha);
    await first.release();
    expect(existsSync(join(first.path, 'train.py'))).toBe(true);
    const second = await git1.acquireTree(source, sha);
    expect(second.path).toBe(first.path);
    await second.release();

    const eager = new GitMaterialiser({
      cacheDir: mkdtempSync(join(tmpdir(), 'kiln-linger-')),
    });
    const tree = await eager.acquireTree(source, sha);
    dirs.push(dirname(dirname(tree.path)));
    await tree.release();
    expect(existsSync(tree.path)).toBe(false);
  });
});
