/**
 * Commit subjects and authors for the pages, from kiln's git mirror (the
 * runs fetched their commits there), remembered per process: a commit
 * never changes. A run whose commit the mirror lacks shows none.
 */
import type { CommitInfo } from '../git/describe-commits.js';
import type { ServerDeps } from '../http/server-deps.js';
import type { RunRecord } from '../model/run.js';

const known = new Map<string, CommitInfo | null>();
const LIMIT = 5000;

export async function describeCommitsOf(
  deps: ServerDeps,
  runs: readonly RunRecord[],
): Promise<Map<string, CommitInfo>> {
  const found = new Map<string, CommitInfo>();
  const missing = new Map<
    string,
    { source: { id: string; url: string }; shas: Set<string> }
  >();
  for (const run of runs) {
    const cached = known.get(run.commit);
    if (cached) found.set(run.commit, cached);
    if (cached !== undefined || !run.source || run.source.tree) continue;
    if (!/^[0-9a-f]{40}$/.test(run.commit)) continue;
    const entry = missing.get(run.source.id) ?? {
      source: { id: run.source.id, url: run.source.url },
      shas: new Set<string>(),
    };
    entry.shas.add(run.commit);
    missing.set(run.source.id, entry);
  }
  const git = deps.git;
  if (!git || missing.size === 0) return found;
  await Promise.all(
    [...missing.values()].map(async ({ source, shas }) => {
      const commits = await git
        .describeCommits(source, [...shas])
        .catch(() => []);
      if (known.size > LIMIT) known.clear();
      for (const commit of commits) {
        known.set(commit.sha, commit);
        found.set(commit.sha, commit);
      }
    }),
  );
  return found;
}
