/**
 * Whether a GitHub login may approve a held fork run: a collaborator of the
 * repository with write access (write, maintain or admin). Asked of GitHub
 * itself, so a display name or commit author can never pass for one.
 */
import type { GithubClient } from './create-github-client.js';

export function createCollaboratorCheck(
  github: GithubClient | null,
): ((repository: string, login: string) => Promise<boolean>) | undefined {
  if (!github) return undefined;
  return async (repository, login) => {
    const [owner = '', repo = ''] = repository.split('/');
    const octokit = await github.forRepository(repository);
    try {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
        owner,
        repo,
        username: login,
      });
      return data.permission === 'admin' || data.permission === 'write';
    } catch (error) {
      // 404: not a collaborator (or no such user).
      if ((error as { status?: number }).status === 404) return false;
      throw error;
    }
  };
}
