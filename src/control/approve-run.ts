/**
 * Releases a run held for approval (a pull request from a fork, or a
 * node's `require-approval` action). The run then goes on like any other,
 * still untrusted (no secrets): approval lets the code run, it does not
 * make it trusted. The approval applies to that run only, which is pinned
 * to one head SHA: a new push to the pull request supersedes the held run,
 * so new code needs a new approval.
 */
import { KilnError } from '../errors.js';
import type { RunRecord } from '../model/run.js';
import type { ControlDeps } from './control-deps.js';
import { applyRunEvent } from './apply-run-event.js';

export type ApprovalErrorCode = 'NOT_FOUND' | 'NOT_WAITING' | 'NOT_ALLOWED';

export class ApprovalError extends KilnError {
  readonly code: ApprovalErrorCode;
  constructor(code: ApprovalErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ApproveRunRequest {
  runId: string;
  /** GitHub login of the person approving (authenticated by the caller). */
  approver: string;
  /**
   * Whether `login` has write access to `repository` (`owner/name`): the
   * caller asks GitHub (the collaborator permission endpoint), never trusts
   * what a request says.
   */
  isCollaborator: (repository: string, login: string) => Promise<boolean>;
}

const githubLogin = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

/**
 * Moves a `waiting-approval` run on (recording who approved in its reason)
 * and queues the nodes that are ready. Rejects with an `ApprovalError` for
 * a missing run, a run not waiting, or an approver without write access.
 * Not idempotent by design: a second approval fails with NOT_WAITING.
 */
export async function approveRun(
  deps: ControlDeps,
  request: ApproveRunRequest,
): Promise<RunRecord> {
  const { runId, approver } = request;
  const run = await deps.runs.getRunHeader(runId);
  if (!run) {
    throw new ApprovalError('NOT_FOUND', `run ${runId} does not exist`);
  }
  if (!githubLogin.test(approver)) {
    throw new ApprovalError(
      'NOT_ALLOWED',
      'approver must be a GitHub login (letters, digits and -)',
    );
  }
  if (!(await request.isCollaborator(run.repository, approver))) {
    throw new ApprovalError(
      'NOT_ALLOWED',
      `@${approver} does not have write access to ${run.repository}; ask a collaborator with write access to approve`,
    );
  }
  const result = await applyRunEvent(deps, {
    runId,
    event: { type: 'approve', approver },
  });
  if (!result.applied) {
    if (!result.run) {
      throw new ApprovalError('NOT_FOUND', `run ${runId} does not exist`);
    }
    throw new ApprovalError(
      'NOT_WAITING',
      `run ${runId} is ${result.run.status}, not waiting for approval`,
    );
  }
  deps.logger.info({ runId, approver }, 'run approved');
  return result.run;
}
