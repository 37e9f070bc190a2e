/**
 * Cancels a run unless it already ended: the run ends `cancelled` with the
 * reason at once, its pending nodes are skipped, queued and started ones
 * stopped, and the workers holding started ones are told to stop their
 * containers. One compare-and-set, so a worker finishing at the same
 * moment can't undo it. Idempotent: a second call changes nothing.
 */
import type { ControlDeps } from './control-deps.js';
import { applyRunEvent } from './apply-run-event.js';

export interface CancelRunRequest {
  runId: string;
  reason: string;
}

/** True when this call cancelled the run. */
export async function cancelRun(
  deps: ControlDeps,
  request: CancelRunRequest,
): Promise<boolean> {
  const result = await applyRunEvent(deps, {
    runId: request.runId,
    event: { type: 'cancel', reason: request.reason },
  });
  return result.applied;
}

/** Cancels every unfinished run on one ref (a deleted branch, a closed PR). */
export async function cancelRunsOfRef(
  deps: ControlDeps,
  request: { repository: string; ref: string; reason: string },
): Promise<string[]> {
  const cancelled: string[] = [];
  for (;;) {
    const runs = await deps.runs.listRuns({
      repository: request.repository,
      ref: request.ref,
      limit: 1000,
    });
    let changed = false;
    for (const run of runs) {
      if (await cancelRun(deps, { runId: run.id, reason: request.reason })) {
        cancelled.push(run.id);
        changed = true;
      }
    }
    if (!changed || runs.length < 1000) return cancelled;
  }
}
