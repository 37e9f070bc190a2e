/**
 * The failure codes of the git adapter. Callers branch on `code`, never on
 * the message: the message is for people and says how to fix the problem.
 */
import { KilnError } from '../errors.js';
export type GitErrorCode =
  | 'ACCESS_DENIED'
  | 'COMMIT_NOT_FOUND'
  | 'FETCH_FAILED'
  | 'SERVER_NOT_ANSWERING'
  | 'INVALID_SHA'
  | 'INVALID_SOURCE'
  | 'INVALID_PATH'
  | 'INVALID_REVISION'
  | 'FILE_TOO_LARGE'
  | 'NOT_A_REPOSITORY'
  | 'DIRTY_WORK_TREE'
  | 'EXPORT_FAILED'
  | 'GIT_FAILED';

/** Codes a later attempt may fix (network, disk); the rest are permanent. */
const retryableCodes: ReadonlySet<GitErrorCode> = new Set([
  'FETCH_FAILED',
  'SERVER_NOT_ANSWERING',
  'EXPORT_FAILED',
  'GIT_FAILED',
]);

export class GitError extends KilnError {
  readonly code: GitErrorCode;
  readonly retryable: boolean;

  constructor(code: GitErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.retryable = retryableCodes.has(code);
  }
}

export function isGitError(value: unknown): value is GitError {
  return value instanceof GitError;
}
