/**
 * Commit history for PR baselines, answered from kiln's git mirror (the
 * commits are usually there already: the runs fetched them).
 */
import type { GitMaterialiser } from '../git/git-materialiser.js';
import type { RunRecord } from '../model/run.js';
import type { CommitHistory } from './find-base-run.js';

export function createGitCommitHistory(
  git: Pick<GitMaterialiser, 'mergeBase' | 'isAncestor'>,
): CommitHistory {
  return {
    async mergeBase(run: RunRecord) {
      const baseSha = run.trigger?.baseSha;
      if (!run.source || !baseSha) return undefined;
      const source = { id: run.source.id, url: run.source.url };
      return (await git.mergeBase(source, run.commit, baseSha)) ?? undefined;
    },
    async isAncestor(run: RunRecord, ancestor: string, commit: string) {
      if (!run.source) return false;
      const source = { id: run.source.id, url: run.source.url };
      return git.isAncestor(source, ancestor, commit);
    },
  };
}
