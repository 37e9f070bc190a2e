import { createGit } from './create-git.js';
import { GitError } from './git-error.js';
import { isObjectId } from './object-id.js';

// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;

/**
 * Resolves a revision (`HEAD`, a branch, a tag, a short SHA) in the local
 * repository at `dir` to a full commit id. A revision starting with `-` is
 * refused, so it can never be read as an option.
 */
export async function resolveRevision(
  dir: string,
  rev: string,
): Promise<string> {
  if (
    typeof rev !== 'string' ||
    rev === '' ||
    rev.length > 1024 ||
    rev.startsWith('-') ||
    controlCharacters.test(rev)
  ) {
    throw new GitError(
      'INVALID_REVISION',
      `${JSON.stringify(String(rev).slice(0, 80))} is not a revision: use a branch, tag or commit id`,
    );
  }
  try {
    const sha = await createGit({ cwd: dir, timeoutMs: 60_000 }).raw([
      'rev-parse',
      '--verify',
      '--end-of-options',
      `${rev}^{commit}`,
    ]);
    // simple-git resolves when git exits non-zero without stderr output,
    // so the answer itself must be checked.
    if (!isObjectId(sha.trim())) throw new Error(`no commit: ${sha}`);
    return sha.trim();
  } catch (error) {
    throw new GitError(
      'INVALID_REVISION',
      `${JSON.stringify(rev.slice(0, 80))} does not name a commit in ${dir}; check the spelling or fetch it first`,
      { cause: error },
    );
  }
}
