/**
 * Re-runs what GitHub's "Re-run" buttons ask for: the run a check run
 * reports (`check_run` `rerequested`), or the latest run of each pipeline
 * on a commit (`check_suite` `rerequested`). A re-run is a new run of the
 * same commit, pipeline, parameters and stored configuration, made through
 * the control plane and the one trust decision (`how: 'rerun'`: a re-run
 * of an untrusted run is held again). It keeps the pull request it belongs
 * to, so its reports go to the same PR comment and a new check run. Run
 * ids come from the delivery, so a re-processed delivery finds its runs.
 */
import { createRun } from '../control/create-run.js';
import type { RerunTriggerEvent } from '../forge/github/to-trigger-event.js';
import type { RunRecord } from '../model/run.js';
import { decideTrust } from '../orchestrator/decide-trust.js';
import { TERMINAL_RUN_STATUSES } from '../orchestrator/run-machine.js';
import { runIdFor } from './create-trigger-runs.js';
import { makeOutcome, type DeliveryOutcome } from './delivery-outcome.js';
import type { IntakeDeps } from './intake-deps.js';
import type { IntakeJob } from './intake-queue.js';

const FINISHED: ReadonlySet<string> = new Set(TERMINAL_RUN_STATUSES);

export async function rerunRequestedRuns(
  deps: IntakeDeps,
  job: IntakeJob,
  event: RerunTriggerEvent,
): Promise<DeliveryOutcome> {
  const found = await findRuns(deps, event);
  if ('ignored' in found) return makeOutcome('ignored', found);
  const runIds: string[] = [];
  const skipped: string[] = [];
  for (const run of found.runs) {
    const created = await rerun(deps, job, event, run);
    if (typeof created === 'string') skipped.push(created);
    else runIds.push(created.id);
  }
  const asked = `re-run requested on GitHub by @${event.sender ?? 'unknown'}`;
  if (runIds.length === 0)
    return makeOutcome('ignored', {
      reason: `${asked}: ${skipped.join('; ')}`,
    });
  return makeOutcome('runs-created', {
    reason: skipped.length > 0 ? `${asked}; ${skipped.join('; ')}` : asked,
    runIds,
  });
}

async function findRuns(
  deps: IntakeDeps,
  event: RerunTriggerEvent,
): Promise<{ runs: RunRecord[] } | { ignored: true; reason: string }> {
  const repository = event.repository.fullName;
  if (event.scope === 'check_run') {
    const run = event.runId
      ? await deps.control.runs.getRun(event.runId)
      : null;
    // The check run must be kiln's report of a run of this very commit.
    if (
      !run ||
      run.repository !== repository ||
      run.commit !== event.sha ||
      !run.source ||
      !run.config
    ) {
      return {
        ignored: true,
        reason: `no run of ${repository} at ${event.sha.slice(0, 7)} for check run ${JSON.stringify(event.checkName ?? '')}`,
      };
    }
    return { runs: [run] };
  }
  const runs = await deps.control.runs.listRuns({
    repository,
    commit: event.sha,
    limit: 200,
  });
  // The latest run of each pipeline (or step) on the commit.
  const latest = new Map<string, RunRecord>();
  for (const run of runs) {
    const known = latest.get(run.name);
    if (!known || run.counter > known.counter) latest.set(run.name, run);
  }
  const chosen = [...latest.values()]
    .filter((run) => run.source && run.config)
    .sort((a, b) => a.counter - b.counter);
  if (chosen.length === 0) {
    return {
      ignored: true,
      reason: `no run of ${repository} at ${event.sha.slice(0, 7)} to re-run`,
    };
  }
  return { runs: chosen };
}

/** The new run, or why it was not made. */
async function rerun(
  deps: IntakeDeps,
  job: IntakeJob,
  event: RerunTriggerEvent,
  run: RunRecord,
): Promise<RunRecord | string> {
  if (!FINISHED.has(run.status))
    return `run ${run.id} of ${run.name} is still ${run.status}`;
  const configText = run.config
    ? await deps.control.configs.load(run.config.key)
    : null;
  if (!run.source || !run.config || configText === null)
    return `the configuration of run ${run.id} is no longer stored`;
  const trust = decideTrust({ how: 'rerun', previousTrusted: run.trusted });
  return createRun(deps.control, {
    id: runIdFor(job.deliveryId, `rerun:${run.id}`),
    repository: run.repository,
    source: { id: run.source.id, url: run.source.url },
    commit: run.commit,
    ...(run.ref !== undefined ? { ref: run.ref } : {}),
    name: run.name,
    parameters: run.parameters,
    configText,
    configFile: run.config.file,
    trigger: {
      ...run.trigger,
      event: 'rerun',
      deliveryId: job.deliveryId,
      sender: event.sender,
      installationId: event.installationId ?? run.trigger?.installationId,
    },
    trusted: trust.trusted,
    requireApproval: trust.hold,
    ...(run.queue !== undefined ? { queue: run.queue } : {}),
    ...(run.runtime !== undefined ? { runtime: run.runtime } : {}),
  });
}
