/**
 * Cancels one run unless it already ended: marks it `cancelled` under its
 * run lock (so a concurrent advance or finish is not overwritten), then
 * advances it, which stops its queued steps; workers watching the run stop
 * the started ones. Idempotent: a second call changes nothing.
 */
import type { RunRecord } from '../model/run.js';
import { advanceRun, runLockKey } from '../orchestrator/advance-run.js';
import { isFinalRunStatus } from '../orchestrator/next-run-actions.js';
import type { OrchestratorDeps } from '../orchestrator/orchestrator-deps.js';
import { withLock } from '../queue/run-lock.js';

export interface CancelRunRequest {
  runId: string;
  reason: string;
  /** Id of the run that replaces this one. */
  supersededBy?: string;
}

/** True when this call cancelled the run. */
export async function cancelRun(
  deps: OrchestratorDeps,
  request: CancelRunRequest,
): Promise<boolean> {
  const now = (deps.now?.() ?? new Date()).toISOString();
  const cancelled = await withLock(
    deps.redis,
    runLockKey(deps.prefix, request.runId),
    async () => {
      const run = await deps.runs.getRun(request.runId);
      if (!run || isFinalRunStatus(run.status)) return false;
      const patch: Partial<RunRecord> = {
        status: 'cancelled',
        reason: request.reason,
        endedAt: now,
      };
      if (request.supersededBy) patch.supersededBy = request.supersededBy;
      await deps.runs.updateRun(request.runId, patch);
      return true;
    },
  );
  if (cancelled) await advanceRun(deps, request.runId);
  return cancelled;
}

/** Cancels every unfinished run on one ref (a deleted branch, a closed PR). */
export async function cancelRunsOfRef(
  deps: OrchestratorDeps,
  request: { repository: string; ref: string; reason: string },
): Promise<string[]> {
  const runs = await deps.runs.listRuns({
    repository: request.repository,
    ref: request.ref,
    limit: 1000,
  });
  const cancelled: string[] = [];
  for (const run of runs) {
    if (isFinalRunStatus(run.status)) continue;
    if (await cancelRun(deps, { runId: run.id, reason: request.reason })) {
      cancelled.push(run.id);
    }
  }
  return cancelled;
}
