/**
 * `kiln cancel`, `kiln approve` and `kiln rerun`: with KILN_URL through
 * that kiln's API (an admin token), otherwise on the local store. A local
 * re-run runs here, as `kiln run` does; `--follow` (or a local re-run)
 * shows the run until it ends.
 */
import { userInfo } from 'node:os';
import { rerunRun } from '../../control/rerun-run.js';
import { createEngine } from '../../engine/create-engine.js';
import { createLogger } from '../../log.js';
import type { RunRecord } from '../../model/run.js';
import { localStepQueue } from '../../redis/redis-keys.js';
import { readSettings } from '../../settings.js';
import { openRecordsSource } from '../records-source.js';
import { remoteFromEnv } from '../remote-client.js';
import { followRemoteRun } from './remote-actions.js';
import { followLocalRun } from './run-action.js';

function printRun(run: RunRecord, json: boolean | undefined, where: string) {
  if (json) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `run ${run.id} (#${run.counter}) ${run.name}: ${run.status}${run.reason ? ` — ${run.reason}` : ''}\n  ${where}\n`,
  );
}

export async function cancelAction(
  runId: string,
  options: { json?: boolean },
): Promise<void> {
  const source = await openRecordsSource();
  try {
    const run = await source.cancel(
      runId,
      `cancelled by ${userInfo().username} (kiln cancel)`,
    );
    printRun(run, options.json, source.where);
  } finally {
    await source.close();
  }
}

export async function approveAction(
  runId: string,
  options: { json?: boolean; approver?: string },
): Promise<void> {
  const source = await openRecordsSource();
  try {
    const approver = options.approver ?? userInfo().username;
    const run = await source.approve(runId, approver);
    printRun(run, options.json, source.where);
  } finally {
    await source.close();
  }
}

export async function rerunAction(
  runId: string,
  options: { json?: boolean; reuse: boolean; follow?: boolean },
): Promise<number> {
  const remote = remoteFromEnv();
  if (remote) {
    const run = await remote.post<RunRecord>(
      `/api/runs/${encodeURIComponent(runId)}/rerun`,
      { reuse: options.reuse },
    );
    if (!options.follow) {
      printRun(run, options.json, `${remote.url}/runs/${run.id}`);
      return 0;
    }
    process.stderr.write(
      `kiln: re-run ${run.id} (#${run.counter}) of ${runId} — ${remote.url}/runs/${run.id}\n`,
    );
    return followRemoteRun(remote, run.id, options);
  }
  // Locally the re-run runs here, on its own queue, as `kiln run` does.
  const settings = readSettings(process.env);
  const logger = createLogger({ level: process.env.KILN_LOG_LEVEL ?? 'error' });
  const engine = await createEngine({ settings, logger, runsSteps: true });
  try {
    const original = await engine.deps.runs.getRun(runId);
    if (!original) {
      throw new Error(
        `no run ${runId} in the local store: set KILN_URL to re-run on a kiln server`,
      );
    }
    const run = await rerunRun(engine.deps, original, {
      sender: userInfo().username,
      reuse: options.reuse,
      queue: localStepQueue(`${original.id}-rerun-${Date.now().toString(36)}`),
      runtime: engine.deps.runtime.kind,
    });
    process.stderr.write(
      `kiln: re-run ${run.id} (#${run.counter}) of ${runId}${options.reuse ? ', reusing unchanged steps' : ''}\n`,
    );
    return await followLocalRun(engine, run, {
      json: options.json,
      concurrency: settings.concurrency,
    });
  } finally {
    await engine.close();
  }
}
