import { GitError } from './git-error.js';

// Lowercase only: what GitHub sends and what git prints. Anything else is
// refused before git sees it, so a "sha" can never be an option or a ref.
const objectIdPattern = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const zeroIdPattern = /^0+$/;

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && objectIdPattern.test(value);
}

/** True for the all-zeros id GitHub sends for a created or deleted ref. */
export function isZeroObjectId(value: string): boolean {
  return isObjectId(value) && zeroIdPattern.test(value);
}

export function assertObjectId(value: unknown, what = 'sha'): string {
  if (!isObjectId(value) || isZeroObjectId(value)) {
    const shown = JSON.stringify(String(value).slice(0, 80));
    throw new GitError(
      'INVALID_SHA',
      `${what} ${shown} is not a full object id: expected 40 (or 64) lowercase hex characters; resolve branch names to a commit first`,
    );
  }
  return value;
}
