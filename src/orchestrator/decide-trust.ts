/**
 * The one trust decision every path that starts a run goes through —
 * push, pull request, re-run, launch by API or UI, schedule. A trusted run
 * gets the repository's secrets; an untrusted one never does and waits for
 * a person with write access to approve it. Pure: the caller gathers the
 * facts (who pushed, where the commit is), this decides.
 *
 * Untrusted are: a pull request from a fork; a commit that is on no branch
 * or tag of the repository (a fork's commit reached by its SHA); and a
 * re-run of anything that was untrusted. Trust never grows on a re-run or a
 * launch: approving lets code run, it does not make it trusted.
 */
export interface TrustFacts {
  how: 'push' | 'pull_request' | 'rerun' | 'launch' | 'schedule';
  /** A pull request whose head is in another repository. */
  fork?: boolean;
  /** Pull requests: who opened it and from where (for the reason shown). */
  author?: string;
  headRepository?: string;
  /** Re-runs: whether the run re-run was trusted. */
  previousTrusted?: boolean;
  /** Launches by SHA: whether a branch or tag of the repository holds it. */
  onBranchOrTag?: boolean;
}

export interface TrustDecision {
  trusted: boolean;
  /** Why the run waits for approval (set exactly when untrusted). */
  hold?: string;
}

export function decideTrust(facts: TrustFacts): TrustDecision {
  if (facts.how === 'pull_request' && facts.fork) {
    return untrusted(
      `waiting for approval: pull request from fork ${facts.headRepository ?? 'unknown'} by @${facts.author ?? 'unknown'} — a collaborator with write access must approve it`,
    );
  }
  if (facts.how === 'rerun' && facts.previousTrusted === false) {
    return untrusted(
      'waiting for approval: a re-run of an untrusted run (a fork pull request) — a collaborator with write access must approve it',
    );
  }
  if (facts.onBranchOrTag === false) {
    return untrusted(
      'waiting for approval: the commit is on no branch or tag of the repository (a fork’s commit?) — a collaborator with write access must approve it',
    );
  }
  return { trusted: true };
}

function untrusted(hold: string): TrustDecision {
  return { trusted: false, hold };
}
