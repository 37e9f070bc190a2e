/**
 * Repairs what a crash may have left half done, at start: queued nodes
 * whose job was never added (a crash between the change and its enqueue)
 * are queued again, and a run whose nodes all ended but which was not
 * settled is settled. Safe any time: it only adds jobs that dedupe by id
 * and applies changes through the machines.
 */
import type { RunRecord } from '../model/run.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';
import type { ControlDeps } from './control-deps.js';
import { settleRun } from './apply-run-event.js';
import { enqueueNodes } from './enqueue-nodes.js';

export async function reconcileRun(
  deps: ControlDeps,
  run: RunRecord,
): Promise<void> {
  if (isFinalRunStatus(run.status)) return;
  if (run.status !== 'waiting-approval') {
    await enqueueNodes(deps, run, run.nodes);
  }
  await settleRun(deps, { runId: run.id });
}
