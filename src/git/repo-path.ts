import { GitError } from './git-error.js';

const maxPathLength = 4096;
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;

/**
 * Checks a path inside a repository (`kiln.yaml`, `config/ci.yaml`): relative,
 * `/`-separated, no `.`/`..`/empty segments. Returns it unchanged.
 */
export function checkRepoPath(path: string): string {
  const segments = typeof path === 'string' ? path.split('/') : [];
  const bad =
    typeof path !== 'string' ||
    path.length === 0 ||
    path.length > maxPathLength ||
    controlCharacters.test(path) ||
    segments.some((part) => part === '' || part === '.' || part === '..');
  if (bad) {
    throw new GitError(
      'INVALID_PATH',
      `${JSON.stringify(String(path).slice(0, 80))} is not a path inside the repository: use a relative path like kiln.yaml or config/kiln.yaml`,
    );
  }
  return path;
}
