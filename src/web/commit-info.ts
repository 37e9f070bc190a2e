/**
 * Commit subjects and authors for the pages, from kiln's git mirror (the
 * runs fetched their commits there), remembered per process: a commit
 * never changes. A run whose commit the mirror lacks shows none.
 */
import type { CommitInfo } from '../git/describe-commits.js';
import type { ServerDeps } from '../http/server-deps.js';
import type { RunRecord } from '../model/run.js';

const known = new Map<string, CommitInfo | null>();
/** Commits the mirror lacked, and when: asked again only after a while. */
const missing = new Map<string, number>();
const LIMIT = 5000;
const RETRY_MS = 60_000;

export async function describeCommitsOf(
  deps: ServerDeps,
  runs: readonly RunRecord[],
): Promise<Map<string, CommitInfo>> {
  const found = new Map<string, CommitInfo>();
  const wanted = new Map<
    string,
    { source: { id: string; url: string }; shas: Set<string> }
  >();
  for (const run of runs) {
    const cached = known.get(run.commit);
    if (cached) found.set(run.commit, cached);
    if (cached !== undefined || !run.source || run.source.tree) continue;
    if (!/^[0-9a-f]{40}$/.test(run.commit)) continue;
    if (Date.now() - (missing.get(run.commit) ?? 0) < RETRY_MS) continue;
    const entry = wanted.get(run.source.id) ?? {
      source: { id: run.source.id, url: run.source.url },
      shas: new Set<string>(),
    };
    entry.shas.add(run.commit);
    wanted.set(run.source.id, entry);
  }
  const git = deps.git;
  if (!git || wanted.size === 0) return found;
  await Promise.all(
    [...wanted.values()].map(async ({ source, shas }) => {
      const commits = await git
        .describeCommits(source, [...shas])
        .catch(() => []);
      if (known.size > LIMIT) known.clear();
      if (missing.size > LIMIT) missing.clear();
      for (const commit of commits) {
        known.set(commit.sha, commit);
        found.set(commit.sha, commit);
        missing.delete(commit.sha);
      }
      for (const sha of shas) {
        if (!found.has(sha)) missing.set(sha, Date.now());
      }
    }),
  );
  return found;
}
