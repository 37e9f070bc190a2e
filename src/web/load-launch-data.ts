/**
 * What the Launch page needs: the repository, ref or SHA and step or
 * pipeline picked (or those of a run copied with `?from=RUN`, its
 * parameters prefilled), and the configuration at that commit.
 */
import { loadConfig } from '../config/load-config.js';
import { ApiError } from '../http/api-context.js';
import { findSource, readConfigAt, resolveRef } from '../http/find-source.js';
import type { ServerDeps } from '../http/server-deps.js';
import type { LaunchPageData } from './pages/launch-page.js';

export async function loadLaunchData(
  deps: ServerDeps,
  repositories: string[],
  query: Record<string, unknown>,
): Promise<LaunchPageData> {
  const pick = (value: unknown) =>
    typeof value === 'string' && value.length <= 256 && value
      ? value
      : undefined;
  const data: LaunchPageData = {
    repositories,
    repository: pick(query.repository),
    at: pick(query.at),
    name: pick(query.name),
  };
  const fromId = pick(query.from);
  if (fromId && /^[A-Za-z0-9._-]{1,128}$/.test(fromId)) {
    const from = await deps.control.runs.getRunHeader(fromId);
    if (from) {
      data.from = from;
      data.repository = from.repository;
      data.at = from.commit;
      data.name = from.name;
      data.values = Object.fromEntries(
        Object.entries(from.parameters).map(([key, value]) => [
          key,
          typeof value === 'string' ? value : JSON.stringify(value),
        ]),
      );
    } else {
      data.problem = `there is no run ${fromId} to copy`;
    }
  }
  if (!data.repository || !data.at) return data;
  try {
    if (!deps.git) throw new ApiError(503, 'this kiln server cannot read git');
    const source = await findSource(deps, data.repository);
    const commit = /^[0-9a-f]{40}$/.test(data.at)
      ? data.at
      : (await resolveRef(deps.git, source, data.at)).sha;
    await deps.git.ensureCommit(source, commit);
    const config = await readConfigAt(deps.git, source, commit);
    const loaded = loadConfig(config.text, { file: config.file });
    data.commit = commit;
    data.config = loaded.config;
    if (!loaded.valid)
      data.problem = `${config.file} at ${commit.slice(0, 12)} has errors: a launch will fail`;
    if (
      data.name &&
      !loaded.config.pipelines.some((item) => item.name === data.name) &&
      !loaded.config.steps.some((item) => item.name === data.name)
    ) {
      data.problem = `there is no step or pipeline "${data.name}" at ${commit.slice(0, 12)}`;
      data.name = undefined;
    }
  } catch (error) {
    data.problem =
      error instanceof ApiError
        ? error.message
        : `could not read the configuration: ${(error as Error).message}`;
  }
  return data;
}
