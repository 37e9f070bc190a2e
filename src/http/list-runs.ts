/**
 * The runs list's query, shared by `GET /api/runs` and the Runs page:
 * repository, state, a branch (its pushes and the pull requests from it,
 * whose ref is `refs/pull/N/head`) or a full ref, and a commit by its full
 * SHA or a prefix of at least 7 characters. Newest first, one page.
 */
import type { RunRecord, RunStatus } from '../model/run.js';
import type { RunStore } from '../store/index.js';
import { ApiError } from './api-context.js';

export interface RunsQuery {
  repository?: string;
  /** A branch name (`main`) or a full ref (`refs/pull/7/head`). */
  branch?: string;
  commit?: string;
  state?: RunStatus;
  limit: number;
  offset: number;
}

export interface RunsPage {
  runs: RunRecord[];
  hasMore: boolean;
}

export async function listRunsPage(
  runs: RunStore,
  query: RunsQuery,
): Promise<RunsPage> {
  const commit = query.commit?.toLowerCase();
  if (commit !== undefined && !/^[0-9a-f~]{7,64}$/.test(commit)) {
    throw new ApiError(
      400,
      'commit must be a SHA or its first 7 or more characters',
    );
  }
  const common = {
    repository: query.repository,
    commit,
    status: query.state,
  };
  // One more than asked tells whether a next page exists.
  const wanted = query.offset + query.limit + 1;
  if (query.branch === undefined || query.branch.startsWith('refs/')) {
    const list = await runs.listRuns({
      ...common,
      ref: query.branch,
      limit: query.limit + 1,
      offset: query.offset,
    });
    return {
      runs: list.slice(0, query.limit),
      hasMore: list.length > query.limit,
    };
  }
  // The branch index (pushes and pull requests from the branch), merged
  // with the ref index, which also holds runs recorded before it.
  const [byBranch, byRef] = await Promise.all([
    runs.listRuns({
      ...common,
      branch: query.branch,
      limit: Math.min(1000, wanted),
    }),
    runs.listRuns({
      ...common,
      ref: `refs/heads/${query.branch}`,
      limit: Math.min(1000, wanted),
    }),
  ]);
  const merged = new Map<string, RunRecord>();
  for (const run of [...byBranch, ...byRef]) merged.set(run.id, run);
  const sorted = [...merged.values()].sort(
    (a, b) =>
      b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
  );
  const page = sorted.slice(query.offset, query.offset + query.limit + 1);
  return {
    runs: page.slice(0, query.limit),
    hasMore: page.length > query.limit,
  };
}
