/**
 * A re-run: the same commit, configuration text and parameters as an
 * earlier run, a new run that points at it (`trigger.rerunOf`). With
 * `reuse` (the default) a node whose step, image, commands, parameters and
 * inputs are unchanged takes its earlier result instead of running; it
 * shows as `reused`, naming the execution it took. Used by the API and
 * `kiln rerun`.
 */
import { formatFinding } from '../config/finding.js';
import { loadConfig } from '../config/load-config.js';
import { KilnError } from '../errors.js';
import type { RunRecord } from '../model/run.js';
import { checkRunParameters } from '../orchestrator/check-run-parameters.js';
import { decideTrust } from '../orchestrator/decide-trust.js';
import { buildRunGraph } from '../orchestrator/run-graph.js';
import type { ControlDeps } from './control-deps.js';
import { createRun } from './create-run.js';

export class RerunError extends KilnError {
  readonly code = 'CANNOT_RERUN';
}

export interface RerunOptions {
  /** Who asked (a token's name, or the local user). */
  sender: string;
  /** @defaultValue true */
  reuse?: boolean;
  /** Queue for its steps (a local re-run uses its own). */
  queue?: string;
  runtime?: RunRecord['runtime'];
}

export async function rerunRun(
  deps: ControlDeps,
  run: RunRecord,
  options: RerunOptions,
): Promise<RunRecord> {
  if (!run.source || !run.config) {
    throw new RerunError(
      `run ${run.id} has no stored source or configuration to re-run`,
    );
  }
  if (run.commit.startsWith('~')) {
    throw new RerunError(
      `run ${run.id} ran an uncommitted work tree: commit it and launch again`,
    );
  }
  const configText = await deps.configs.load(run.config.key);
  if (configText === null) {
    throw new RerunError(
      `the configuration of run ${run.id} is no longer stored`,
    );
  }
  const loaded = loadConfig(configText, { file: run.config.file });
  const first = loaded.findings.find((item) => item.severity === 'error');
  if (first) throw new RerunError(formatFinding(first));
  const graph = buildRunGraph(loaded.config, run.name);
  if (!graph.ok) throw new RerunError(graph.message);
  const problems = checkRunParameters(
    loaded.config,
    graph.graph,
    run.parameters,
  );
  if (problems.length > 0) throw new RerunError(problems.join('; '));
  const trust = decideTrust({ how: 'rerun', previousTrusted: run.trusted });
  const trigger = run.trigger;
  return createRun(deps, {
    repository: run.repository,
    source: { id: run.source.id, url: run.source.url },
    commit: run.commit,
    ref: run.ref,
    name: run.name,
    parameters: run.parameters,
    configText,
    configFile: run.config.file,
    trigger: {
      event: 'rerun',
      sender: options.sender,
      rerunOf: run.id,
      ...(options.reuse === false ? {} : { reuse: true }),
      ...(trigger?.message ? { message: trigger.message } : {}),
      // A pull request's re-run is still compared with its base.
      ...(trigger?.pullRequest
        ? {
            pullRequest: trigger.pullRequest,
            baseRef: trigger.baseRef,
            baseSha: trigger.baseSha,
            headRef: trigger.headRef,
          }
        : {}),
    },
    trusted: trust.trusted,
    requireApproval: trust.hold,
    ...(options.queue !== undefined ? { queue: options.queue } : {}),
    ...(options.runtime !== undefined ? { runtime: options.runtime } : {}),
  });
}
