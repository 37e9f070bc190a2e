import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import {
  commitAll,
  createRepo,
  git,
  writeFiles,
} from '../../helpers/git-repo.js';

describe('GitMaterialiser merge base', () => {
  let origin: string;
  let cache: string;
  let materialiser: GitMaterialiser;
  let fork: string;
  let mainTip: string;
  let prTip: string;
  let unrelated: string;

  beforeAll(() => {
    origin = createRepo({ 'kiln.yaml': '[]\n' });
    fork = git(origin, 'rev-parse', 'HEAD');
    git(origin, 'checkout', '-q', '-b', 'feature');
    writeFiles(origin, { 'train.py': 'print(1)\n' });
    prTip = commitAll(origin, 'feature work');
    git(origin, 'checkout', '-q', 'main');
    writeFiles(origin, { 'README.md': 'main moves on\n' });
    mainTip = commitAll(origin, 'main work');
    git(origin, 'checkout', '-q', '--orphan', 'other');
    writeFiles(origin, { 'other.txt': 'x\n' });
    unrelated = commitAll(origin, 'unrelated root');
    cache = mkdtempSync(join(tmpdir(), 'kiln-merge-base-'));
    materialiser = new GitMaterialiser({ cacheDir: cache });
  });

  afterAll(() => {
    rmSync(origin, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  const source = () => ({ id: 'local/merge-base', url: origin });

  it('finds the fork point of a branch, fetching the commits it needs', async () => {
    expect(await materialiser.mergeBase(source(), prTip, mainTip)).toBe(fork);
  });

  it('tells ancestors from commits that are not', async () => {
    expect(await materialiser.isAncestor(source(), fork, mainTip)).toBe(true);
    expect(await materialiser.isAncestor(source(), mainTip, mainTip)).toBe(
      true,
    );
    expect(await materialiser.isAncestor(source(), prTip, mainTip)).toBe(false);
  });

  it('answers null for unrelated histories and refuses non-SHAs', async () => {
    expect(
      await materialiser.mergeBase(source(), unrelated, mainTip),
    ).toBeNull();
    await expect(
      materialiser.mergeBase(source(), '--output=x', mainTip),
    ).rejects.toMatchObject({ code: 'INVALID_SHA' });
  });
});
