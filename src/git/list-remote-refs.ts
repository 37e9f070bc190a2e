import type { GitCredentials } from './git-credentials.js';
import { GitError } from './git-error.js';
import { isObjectId } from './object-id.js';
import type { CheckedSource } from './repository-source.js';
import { runRemoteGit } from './run-remote-git.js';

export interface ListRemoteRefsOptions {
  /** A mirror of the source, so its hardened config applies. */
  cwd: string;
  source: CheckedSource;
  credentials?: GitCredentials;
  /** Full ref names (`refs/heads/main`); matched exactly. */
  refs: string[];
  timeoutMs: number;
  /** How long the server may stay silent (see runRemoteGit). */
  stallMs?: number;
}

/**
 * The object each of `refs` points to on the server (`git ls-remote`, no
 * fetch), by full ref name; an annotated tag also appears peeled as
 * `refs/tags/v1^{}`. Refs the server lacks are absent. ACCESS_DENIED when
 * the server refuses kiln; FETCH_FAILED when it cannot be reached.
 */
export async function listRemoteRefs(
  options: ListRemoteRefsOptions,
): Promise<Map<string, string>> {
  const { source, refs } = options;
  // ls-remote matches patterns by their tail; only exact names are kept.
  const wanted = refs.flatMap((ref) => [ref, `${ref}^{}`]);
  let output: string;
  try {
    output = await runRemoteGit({
      cwd: options.cwd,
      source,
      credentials: options.credentials,
      timeoutMs: options.timeoutMs,
      stallMs: options.stallMs,
      // A peeled tag is only listed when asked for by its `^{}` name.
      args: ['ls-remote', '--', source.url, ...wanted],
    });
  } catch (error) {
    if (error instanceof GitError) throw error;
    throw new GitError(
      'FETCH_FAILED',
      `could not list the refs of ${source.id} (${String(error).slice(0, 500)}); check the url and network access`,
    );
  }
  const found = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [sha, name] = line.split('\t');
    if (name !== undefined && wanted.includes(name) && isObjectId(sha)) {
      found.set(name, sha);
    }
  }
  return found;
}
