/**
 * Creates a run pinned to one commit from the configuration text at that
 * commit, with its nodes, and queues its first nodes. An invalid
 * configuration, an unknown pipeline or bad parameters still create a run,
 * in state `error` with the findings, so the reason is visible everywhere a
 * run is (UI, API, commit status). Idempotent by id: creating an existing
 * id returns the stored run (and re-queues its ready nodes, in case the
 * first call died before queueing them).
 */
import { randomBytes } from 'node:crypto';
import { formatFinding } from '../config/finding.js';
import type { Finding } from '../config/finding.js';
import { loadConfig } from '../config/load-config.js';
import type { RunRecord } from '../model/run.js';
import { checkRunParameters } from '../orchestrator/check-run-parameters.js';
import { initialNodes } from '../orchestrator/graph-progress.js';
import { buildRunGraph } from '../orchestrator/run-graph.js';
import { initialRunStatus } from '../orchestrator/run-machine.js';
import { nowIso, type ControlDeps } from './control-deps.js';
import { enqueueNodes } from './enqueue-nodes.js';

export interface CreateRunRequest {
  repository: string;
  source: { id: string; url: string; tree?: string };
  commit: string;
  ref?: string;
  /** Pipeline or step name. */
  name: string;
  parameters?: Record<string, unknown>;
  configText: string;
  configFile: string;
  /**
   * Problems found before the text could be read (bytes that are not
   * UTF-8): the run is invalid with them, as with the text's own errors.
   */
  configFindings?: Finding[];
  trigger?: RunRecord['trigger'];
  /** False for fork pull requests: no secrets. @defaultValue true */
  trusted?: boolean;
  /** Hold the run until someone approves it (the reason shown). */
  requireApproval?: string;
  queue?: string;
  runtime?: RunRecord['runtime'];
  /** Deterministic id (e.g. from a delivery) to make creation idempotent. */
  id?: string;
}

/** Sortable, unique, safe in file names, container names and job ids. */
export function newRunId(now: Date = new Date()): string {
  return `r${now.getTime().toString(36)}${randomBytes(5).toString('hex')}`;
}

export async function createRun(
  deps: ControlDeps,
  request: CreateRunRequest,
): Promise<RunRecord> {
  const now = nowIso(deps);
  const id = request.id ?? newRunId();
  const existing = await deps.runs.getRun(id);
  if (existing) {
    await enqueueNodes(deps, existing, existing.nodes);
    return existing;
  }

  const read = loadConfig(request.configText, { file: request.configFile });
  const early = request.configFindings ?? [];
  const loaded =
    early.length === 0
      ? read
      : { ...read, valid: false, findings: [...early, ...read.findings] };
  const key = await deps.configs.store(request.configText);
  const built = loaded.valid
    ? buildRunGraph(loaded.config, request.name)
    : undefined;
  const parameters = request.parameters ?? {};
  let invalid: string | undefined;
  if (!loaded.valid) {
    const first = loaded.findings.find(
      (finding) => finding.severity === 'error',
    );
    invalid = first
      ? formatFinding(first)
      : `${request.configFile} is not valid`;
  } else if (built && !built.ok) {
    invalid = built.message;
  } else if (built?.ok) {
    const problems = checkRunParameters(loaded.config, built.graph, parameters);
    if (problems.length > 0) invalid = problems.join('; ');
  }
  const graph = built?.ok && invalid === undefined ? built.graph : undefined;
  const status = initialRunStatus({
    invalid,
    hold: request.requireApproval,
  });
  const init = graph
    ? initialNodes(graph, {
        runId: id,
        now,
        hold: status === 'waiting-approval',
      })
    : { nodes: [], waits: {}, queued: [] };

  const counter = await deps.runs.allocateRunCounter(request.repository);
  const record: RunRecord = {
    id,
    counter,
    repository: request.repository,
    commit: request.commit,
    ...(request.ref !== undefined ? { ref: request.ref } : {}),
    kind: built?.ok ? built.graph.kind : 'pipeline',
    name: request.name,
    status,
    parameters,
    nodes: init.nodes,
    ...(request.trigger ? { trigger: request.trigger } : {}),
    ...((invalid ?? request.requireApproval) !== undefined
      ? { reason: invalid ?? request.requireApproval }
      : {}),
    findings: loaded.findings,
    createdAt: now,
    ...(invalid !== undefined ? { endedAt: now } : {}),
    source: request.source,
    config: { file: request.configFile, key },
    ...(request.queue !== undefined ? { queue: request.queue } : {}),
    trusted: request.trusted ?? true,
    ...(request.runtime !== undefined ? { runtime: request.runtime } : {}),
  };
  const created = await deps.runs.createRun(record, {
    waits: init.waits,
    queued: init.queued,
    skipped: init.nodes
      .filter((node) => node.status === 'skipped')
      .map((node) => node.name),
  });
  if (!created) return (await deps.runs.getRun(id)) ?? record;
  await enqueueNodes(deps, record, init.nodes);
  return record;
}
