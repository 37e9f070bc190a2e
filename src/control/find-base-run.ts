/**
 * The run a pull request's metrics are compared with: the latest
 * successful run of the same pipeline on the PR's base branch whose commit
 * is at or before the merge base. kiln never runs the base itself.
 */
import type { RunRecord } from '../model/run.js';
import type { RunStore } from '../store/index.js';

/** Commit history questions, answered from the git mirror. */
export interface CommitHistory {
  /** The merge base of the PR head and the base branch's commit. */
  mergeBase(run: RunRecord): Promise<string | undefined>;
  /** Whether `ancestor` is `commit` or one of its ancestors. */
  isAncestor(
    run: RunRecord,
    ancestor: string,
    commit: string,
  ): Promise<boolean>;
}

export interface FindBaseRunOptions {
  runs: RunStore;
  run: RunRecord;
  history?: CommitHistory;
}

export interface BaseRunResult {
  /** `main` */
  label: string;
  mergeBase?: string;
  run?: RunRecord;
}

const CANDIDATES = 100;

export async function findBaseRun(
  options: FindBaseRunOptions,
): Promise<BaseRunResult> {
  const { run, runs, history } = options;
  const baseRef = run.trigger?.baseRef;
  if (!baseRef) return { label: 'base' };
  const branch = baseRef.replace(/^refs\/heads\//, '');
  const fromHistory = await history?.mergeBase(run).catch(() => undefined);
  const mergeBase = fromHistory ?? run.trigger?.baseSha;
  const found = await runs.listRuns({
    repository: run.repository,
    ref: `refs/heads/${branch}`,
    status: 'complete',
    limit: CANDIDATES,
  });
  const candidates = found.filter(
    (candidate) =>
      candidate.name === run.name &&
      candidate.kind === run.kind &&
      candidate.id !== run.id,
  );
  // The mirror could not answer (no history, or the fetch failed).
  if (!history || !fromHistory) {
    // Without the history, the run at the base commit, else the newest
    // one created before this run, stands in.
    const chosen =
      candidates.find((candidate) => candidate.commit === mergeBase) ??
      candidates.find((candidate) => candidate.createdAt <= run.createdAt);
    return { label: branch, mergeBase, run: chosen };
  }
  for (const candidate of candidates) {
    const before =
      candidate.commit === fromHistory ||
      (await history
        .isAncestor(run, candidate.commit, fromHistory)
        .catch(() => false));
    if (before) return { label: branch, mergeBase, run: candidate };
  }
  return { label: branch, mergeBase };
}
