/**
 * kiln's GitHub access as git credentials: for a repository on GitHub's git
 * origin, the App's installation token scoped to that repository (or
 * KILN_GITHUB_TOKEN); for anything else, nothing. The GitMaterialiser asks
 * before every fetch and ls-remote, so intake, workers and the API all
 * read private repositories the same way.
 */
import type { GitCredentials } from '../../git/git-credentials.js';
import type { CheckedSource } from '../../git/repository-source.js';
import type { GithubClient } from './create-github-client.js';
import { githubGitOrigin, githubRepositoryOf } from './github-git-origin.js';

export interface CreateGitCredentialsOptions {
  /** Null when GitHub is not configured: then there are no credentials. */
  github: GithubClient | null;
  /** KILN_GITHUB_API_URL; decides the origin tokens are sent to. */
  apiUrl?: string;
}

export function createGitCredentials(
  options: CreateGitCredentialsOptions,
): GitCredentials | undefined {
  const { github } = options;
  if (!github) return undefined;
  const origin = githubGitOrigin(options.apiUrl);
  const repositoryOf = (source: CheckedSource) =>
    source.origin === origin ? githubRepositoryOf(source.url, origin) : null;
  return {
    async tokenFor(source, { refresh }) {
      const repository = repositoryOf(source);
      if (repository === null) return undefined;
      return github.readToken(repository, { refresh });
    },
    describeDenied(source) {
      const repository = repositoryOf(source);
      if (repository === null) {
        return `kiln has no access to ${source.id}: it is not on ${origin}, the only place kiln sends its GitHub credentials; make the repository public or host it there`;
      }
      return github.kind === 'app'
        ? `kiln has no access to ${repository}: install the App on it`
        : `kiln has no access to ${repository}: give KILN_GITHUB_TOKEN read access to it (Contents: read)`;
    },
  };
}
