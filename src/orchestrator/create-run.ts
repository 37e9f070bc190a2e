/**
 * Creates a run pinned to one commit from the configuration text at that
 * commit, then advances it (which queues its first nodes). An invalid
 * configuration, an unknown pipeline or bad parameters still create a run,
 * in state `error` with the findings, so the reason is visible everywhere a
 * run is (UI, API, commit status).
 */
import { randomBytes } from 'node:crypto';
import { formatFinding } from '../config/finding.js';
import { loadConfig } from '../config/load-config.js';
import type { RunRecord } from '../model/run.js';
import { advanceRun } from './advance-run.js';
import { storeConfigText } from './config-texts.js';
import type { OrchestratorDeps } from './orchestrator-deps.js';
import { checkRunParameters } from './check-run-parameters.js';
import { buildRunGraph } from './run-graph.js';

export interface CreateRunRequest {
  repository: string;
  source: { id: string; url: string };
  commit: string;
  ref?: string;
  /** Pipeline or step name. */
  name: string;
  parameters?: Record<string, unknown>;
  configText: string;
  configFile: string;
  trigger?: RunRecord['trigger'];
  /** False for fork pull requests: no secrets. @defaultValue true */
  trusted?: boolean;
  /** Hold the run until someone approves it. */
  requireApproval?: string;
  queue?: string;
  runtime?: 'docker' | 'kubernetes' | 'local';
  /** Deterministic id (e.g. from a delivery) to make creation idempotent. */
  id?: string;
}

/** Sortable, unique, safe in file names, container names and job ids. */
export function newRunId(now: Date = new Date()): string {
  return `r${now.getTime().toString(36)}${randomBytes(5).toString('hex')}`;
}

export async function createRun(
  deps: OrchestratorDeps,
  request: CreateRunRequest,
): Promise<RunRecord> {
  const now = (deps.now?.() ?? new Date()).toISOString();
  const id = request.id ?? newRunId();
  const existing = await deps.runs.getRun(id);
  if (existing) return existing;

  const loaded = loadConfig(request.configText, { file: request.configFile });
  const key = await storeConfigText(
    deps.redis,
    deps.prefix,
    request.configText,
  );
  const graph = loaded.valid
    ? buildRunGraph(loaded.config, request.name)
    : undefined;
  const parameters = request.parameters ?? {};
  let reason: string | undefined;
  if (!loaded.valid) {
    const first = loaded.findings.find(
      (finding) => finding.severity === 'error',
    );
    reason = first
      ? formatFinding(first)
      : `${request.configFile} is not valid`;
  } else if (graph && !graph.ok) {
    reason = graph.message;
  } else if (graph?.ok) {
    const problems = checkRunParameters(loaded.config, graph.graph, parameters);
    if (problems.length > 0) reason = problems.join('; ');
  }

  const counter = await deps.runs.allocateRunCounter(request.repository);
  const nodes =
    graph?.ok && !reason
      ? graph.graph.nodes.map((node) => ({
          name: node.name,
          step: node.step ?? '',
          status: 'pending' as const,
          attempt: 1,
        }))
      : [];
  const record: RunRecord = {
    id,
    counter,
    repository: request.repository,
    commit: request.commit,
    ref: request.ref,
    kind: graph?.ok ? graph.graph.kind : 'pipeline',
    name: request.name,
    status: reason
      ? 'error'
      : request.requireApproval
        ? 'waiting-approval'
        : 'created',
    parameters,
    nodes,
    trigger: request.trigger,
    reason: reason ?? request.requireApproval,
    findings: loaded.findings,
    createdAt: now,
    endedAt: reason ? now : undefined,
    source: request.source,
    config: { file: request.configFile, key },
    queue: request.queue,
    trusted: request.trusted ?? true,
    runtime: request.runtime,
  };
  await deps.runs.createRun(record);
  if (reason || request.requireApproval) {
    deps.onRunChange?.(id);
    return record;
  }
  return (await advanceRun(deps, id)) ?? record;
}
