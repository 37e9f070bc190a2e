/**
 * Where a run launched by hand (API or Launch page) comes from: the
 * repository's clone URL as kiln knows it, a branch or tag resolved to its
 * commit, the configuration file at that commit. Shared by the API and the
 * pages; every problem is an `ApiError` with the status to answer.
 */
import { isAbsolute } from 'node:path';
import { isGitError } from '../git/git-error.js';
import { ApiError } from './api-context.js';
import type { ServerDeps } from './server-deps.js';

const configFiles = ['kiln.yaml', 'valohai.yaml'] as const;

export async function findSource(
  deps: ServerDeps,
  repository: string,
): Promise<{ id: string; url: string }> {
  const runs = await deps.control.runs.listRuns({
    repository,
    limit: 100,
  });
  const withSource = runs.find((run) => run.source && !run.source.tree);
  if (!withSource?.source) {
    throw new ApiError(
      runs.length > 0 ? 422 : 404,
      runs.length > 0
        ? `kiln knows ${repository} but no clone URL for it yet: push once so a webhook records it`
        : `kiln does not know repository ${repository}: it needs a webhook delivery or a run first`,
    );
  }
  const { id, url } = withSource.source;
  const local = isAbsolute(url) || url.startsWith('file://');
  if (local && !deps.settings.allowLocalRepositories) {
    throw new ApiError(
      422,
      `${repository} is a local repository: set KILN_ALLOW_LOCAL_REPOSITORIES=true to launch from it`,
    );
  }
  return { id, url };
}

/** The configuration file at a commit (kiln.yaml first, then valohai.yaml). */
export async function readConfigAt(
  git: NonNullable<ServerDeps['git']>,
  source: { id: string; url: string },
  commit: string,
): Promise<{ file: string; text: string }> {
  for (const file of configFiles) {
    const content = await git.readFile(source, commit, file, {
      maxBytes: 1024 * 1024,
    });
    if (content) return { file, text: content.toString('utf8') };
  }
  throw new ApiError(
    422,
    `no ${configFiles.join(' or ')} at ${commit.slice(0, 12)}`,
  );
}

/**
 * A branch or tag to its commit with `git ls-remote` (no clone needed),
 * with the same credentials as every other fetch of the repository.
 */
export async function resolveRef(
  git: NonNullable<ServerDeps['git']>,
  source: { id: string; url: string },
  ref: string,
): Promise<{ sha: string; ref: string }> {
  const found = await git.resolveRef(source, ref).catch((error: unknown) => {
    // No access is said as such ("install the App on it"); anything else
    // is the server being unreachable.
    throw new ApiError(
      422,
      isGitError(error) && !error.retryable
        ? error.message
        : 'could not list the refs of the repository: is it reachable?',
    );
  });
  if (!found) {
    throw new ApiError(422, `no branch or tag "${ref}" in the repository`);
  }
  return found;
}
