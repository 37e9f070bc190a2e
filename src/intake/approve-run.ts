/**
 * Releases a run held for approval (a pull request from a fork). Called by
 * the API route when a person approves; the run then starts like any other,
 * still untrusted (no secrets): approval lets the code run, it does not make
 * it trusted. The approval applies to that run only, which is pinned to one
 * head SHA: a new push to the pull request supersedes the held run, so new
 * code needs a new approval.
 */
import type { RunRecord } from '../model/run.js';
import { advanceRun, runLockKey } from '../orchestrator/advance-run.js';
import type { OrchestratorDeps } from '../orchestrator/orchestrator-deps.js';
import { withLock } from '../queue/run-lock.js';
import { KilnError } from '../errors.js';

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
   * Whether `login` has write access to `repository` (`owner/name`). Until
   * the GitHub client exists the caller supplies this; it must ask GitHub
   * (the collaborator permission endpoint), never trust what a request says.
   */
  isCollaborator: (repository: string, login: string) => Promise<boolean>;
}

const githubLogin = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

/**
 * Moves a `waiting-approval` run to `created` (recording who approved in
 * its reason) and advances it, which queues its first steps. Rejects with
 * an `ApprovalError` for a missing run, a run not waiting, or an approver
 * without write access. Not idempotent by design: a second approval of the
 * same run fails with NOT_WAITING.
 */
export async function approveRun(
  deps: OrchestratorDeps,
  request: ApproveRunRequest,
): Promise<RunRecord> {
  const { runId, approver } = request;
  const run = await deps.runs.getRun(runId);
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
  const now = (deps.now?.() ?? new Date()).toISOString();
  await withLock(deps.redis, runLockKey(deps.prefix, runId), async () => {
    const current = await deps.runs.getRun(runId);
    if (current?.status !== 'waiting-approval') {
      throw new ApprovalError(
        'NOT_WAITING',
        `run ${runId} is ${current?.status ?? 'gone'}, not waiting for approval`,
      );
    }
    await deps.runs.updateRun(runId, {
      status: 'created',
      reason: `approved by @${approver} at ${now}`,
    });
  });
  deps.logger.info({ runId, approver }, 'run approved');
  const advanced = await advanceRun(deps, runId);
  if (!advanced) {
    throw new ApprovalError('NOT_FOUND', `run ${runId} does not exist`);
  }
  return advanced;
}
