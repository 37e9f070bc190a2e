/**
 * Launching by hand (`POST /api/runs`) and re-running: the configuration
 * is read at the commit, the name and parameters are checked before
 * anything is created (bad input is a 422 and no run), then the run is
 * created like a push would create it. Nothing here touches other runs.
 */
import { formatFinding } from '../../config/finding.js';
import { loadConfig } from '../../config/load-config.js';
import type { RunRecord } from '../../model/run.js';
import { checkRunParameters } from '../../orchestrator/check-run-parameters.js';
import { createRun } from '../../control/create-run.js';
import { rerunRun as rerun, RerunError } from '../../control/rerun-run.js';
import { decideTrust } from '../../orchestrator/decide-trust.js';
import { buildRunGraph } from '../../orchestrator/run-graph.js';
import type { Principal } from '../../http/auth/create-auth.js';
import type { ServerDeps } from '../../http/server-deps.js';
import { planNamed, type NamedPlan } from '../../orchestrator/plan-named.js';
import { ApiError } from '../../http/api-context.js';
import {
  findSource,
  readConfigAt,
  resolveRef,
} from '../../http/find-source.js';

export interface LaunchRequest {
  repository: string;
  ref?: string;
  commit?: string;
  name: string;
  parameters: Record<string, unknown>;
}

const sha = /^[0-9a-f]{40}$/;
const refPattern = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$/;
const repositoryPattern = /^[A-Za-z0-9._/-]{1,200}$/;

/** Checks the JSON body of `POST /api/runs`; a 400 says what is wrong. */
export function readLaunchRequest(body: unknown): LaunchRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(
      400,
      'send a JSON object: {"repository", "ref" or "commit", "name", "parameters"}',
    );
  }
  const value = body as Record<string, unknown>;
  const { repository, ref, commit, name, parameters } = value;
  if (typeof repository !== 'string' || !repositoryPattern.test(repository)) {
    throw new ApiError(400, 'repository must be OWNER/REPO');
  }
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new ApiError(400, 'name must name a step, pipeline or task');
  }
  if ((ref === undefined) === (commit === undefined)) {
    throw new ApiError(
      400,
      'give exactly one of ref (a branch or tag) and commit (a 40-hex SHA)',
    );
  }
  if (ref !== undefined && (typeof ref !== 'string' || !refPattern.test(ref))) {
    throw new ApiError(400, 'ref must be a branch or tag name');
  }
  if (
    commit !== undefined &&
    (typeof commit !== 'string' || !sha.test(commit))
  ) {
    throw new ApiError(400, 'commit must be a full 40-character lowercase SHA');
  }
  if (
    parameters !== undefined &&
    (parameters === null ||
      typeof parameters !== 'object' ||
      Array.isArray(parameters))
  ) {
    throw new ApiError(400, 'parameters must be an object of NAME: value');
  }
  const checked: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(parameters ?? {})) {
    if (item !== null && typeof item === 'object') {
      throw new ApiError(
        422,
        `parameter "${key}" must be a string, number or boolean`,
      );
    }
    checked[key] = item;
  }
  return {
    repository,
    name,
    parameters: checked,
    ...(typeof ref === 'string' ? { ref } : {}),
    ...(typeof commit === 'string' ? { commit } : {}),
  };
}

export async function launchRun(
  deps: ServerDeps,
  request: LaunchRequest,
  principal: Principal,
): Promise<RunRecord> {
  const source = await findSource(deps, request.repository);
  const git = deps.git;
  if (!git)
    throw new ApiError(
      503,
      'this kiln server cannot read git: launch from `kiln up` or `kiln server`',
    );
  const resolved = request.commit
    ? { sha: request.commit, ref: undefined }
    : await resolveRef(git, source, request.ref ?? '');
  const commit = resolved.sha;
  await git.ensureCommit(source, commit).catch((error: unknown) => {
    throw new ApiError(
      422,
      `commit ${commit.slice(0, 12)} is not available: ${(error as Error).message}`,
    );
  });
  const { file: configFile, text: configText } = await readConfigAt(
    git,
    source,
    commit,
  );
  checkLaunchable(configText, configFile, request);
  // A branch or tag names the repository's own code; a bare SHA may be a
  // fork's commit (GitHub serves those through the base repository).
  const trust = decideTrust({
    how: 'launch',
    ...(resolved.ref === undefined
      ? { onBranchOrTag: await git.isOnBranchOrTag(source, commit) }
      : {}),
  });
  return createRun(deps.control, {
    repository: request.repository,
    source: { id: source.id, url: source.url },
    commit,
    ref: resolved.ref,
    name: request.name,
    parameters: request.parameters,
    configText,
    configFile,
    trigger: { event: 'api', sender: principal.name },
    trusted: trust.trusted,
    requireApproval: trust.hold,
  });
}

/** Throws a 422 naming the first problem; a launch never makes an error run. */
export function checkLaunchable(
  configText: string,
  configFile: string,
  request: Pick<LaunchRequest, 'name' | 'parameters'>,
): void {
  const loaded = loadConfig(configText, { file: configFile });
  if (!loaded.valid) {
    const first = loaded.findings.find(
      (finding) => finding.severity === 'error',
    );
    throw new ApiError(
      422,
      first ? formatFinding(first) : `${configFile} is not valid`,
    );
  }
  const graph = buildRunGraph(loaded.config, request.name);
  if (!graph.ok) throw new ApiError(422, graph.message);
  const problems = checkRunParameters(
    loaded.config,
    graph.graph,
    request.parameters,
  );
  if (problems.length > 0) throw new ApiError(422, problems.join('; '));
}

/** What `POST /api/runs/preview` answers: the commands each node would run. */
export interface LaunchPreview {
  commit: string;
  configFile: string;
  plan: NamedPlan;
}

/** The launch's checks, then its plan (nothing is created). */
export async function previewLaunch(
  deps: ServerDeps,
  request: LaunchRequest,
): Promise<LaunchPreview> {
  const source = await findSource(deps, request.repository);
  const git = deps.git;
  if (!git) throw new ApiError(503, 'this kiln server cannot read git');
  const commit = request.commit
    ? request.commit
    : (await resolveRef(git, source, request.ref ?? '')).sha;
  await git.ensureCommit(source, commit).catch((error: unknown) => {
    throw new ApiError(
      422,
      `commit ${commit.slice(0, 12)} is not available: ${(error as Error).message}`,
    );
  });
  const config = await readConfigAt(git, source, commit);
  checkLaunchable(config.text, config.file, request);
  const loaded = loadConfig(config.text, { file: config.file });
  const overrides = Object.fromEntries(
    Object.entries(request.parameters).map(([name, value]) => [
      name,
      String(value),
    ]),
  );
  const plan = planNamed(loaded.config, request.name, overrides);
  if (!plan) throw new ApiError(422, `no step or pipeline ${request.name}`);
  return { commit, configFile: config.file, plan };
}

/** `POST /api/runs/:id/rerun` (control/rerun-run.ts); refusals are a 409. */
export async function rerunRun(
  deps: ServerDeps,
  run: RunRecord,
  principal: Principal,
  options: { reuse?: boolean } = {},
): Promise<RunRecord> {
  try {
    return await rerun(deps.control, run, {
      sender: principal.name,
      ...(options.reuse !== undefined ? { reuse: options.reuse } : {}),
    });
  } catch (error) {
    if (error instanceof RerunError) throw new ApiError(409, error.message);
    throw error;
  }
}
