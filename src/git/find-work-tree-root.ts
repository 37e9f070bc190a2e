import { createGit } from './create-git.js';
import { GitError } from './git-error.js';

/** Top-level directory of the repository containing `dir`. */
export async function findWorkTreeRoot(dir: string): Promise<string> {
  try {
    const root = await createGit({ cwd: dir, timeoutMs: 60_000 }).raw([
      'rev-parse',
      '--show-toplevel',
    ]);
    return root.trim();
  } catch (error) {
    throw new GitError(
      'NOT_A_REPOSITORY',
      `${dir} is not inside a git work tree; run kiln from a clone of your repository (or git init)`,
      { cause: error },
    );
  }
}
