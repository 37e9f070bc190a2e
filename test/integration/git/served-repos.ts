/**
 * Repositories that the GitHub stand-in serves over git's smart HTTP: a
 * work tree per repository whose commits are pushed to a bare repository
 * under `<root>/srv/<owner>/<name>.git`.
 */
import { join } from 'node:path';
import { createTestRepo, git, type TestRepo } from './git-fixture.js';

export interface ServedRepo {
  /** `owner/name` */
  name: string;
  bareDir: string;
  work: TestRepo;
  /** Commits the files on `main` (or `branch`) and pushes; returns the SHA. */
  commit(files: Record<string, string>, branch?: string): string;
  tag(name: string, sha: string): void;
}

export function createServedRepo(root: string, name: string): ServedRepo {
  const bareDir = join(root, 'srv', `${name}.git`);
  git(root, ['init', '-q', '--bare', '-b', 'main', bareDir]);
  const work = createTestRepo(join(root, 'work', name));
  return {
    name,
    bareDir,
    work,
    commit(files, branch = 'main') {
      const sha = work.commit('change', files);
      git(work.dir, ['push', '-q', '-f', bareDir, `HEAD:refs/heads/${branch}`]);
      return sha;
    },
    tag(tagName, sha) {
      git(work.dir, ['tag', '-a', '-m', tagName, tagName, sha]);
      git(work.dir, ['push', '-q', bareDir, `refs/tags/${tagName}`]);
    },
  };
}

/** The `repositories` option of the stand-in's git endpoint. */
export function servedMap(repos: ServedRepo[]): Record<string, string> {
  return Object.fromEntries(repos.map((repo) => [repo.name, repo.bareDir]));
}
