/**
 * A run: one triggered pipeline (or single step) pinned to one commit, made
 * of executions. Stored in Redis by the run store.
 */
export type RunStatus =
  | 'created'
  | 'waiting-approval'
  | 'queued'
  | 'running'
  | 'complete'
  | 'error'
  | 'stopped'
  | 'cancelled';

export type NodeStatus =
  | 'pending'
  | 'queued'
  | 'started'
  | 'complete'
  | 'error'
  | 'stopped'
  | 'skipped'
  | 'reused';

export interface RunNodeState {
  name: string;
  step: string;
  status: NodeStatus;
  executionId?: string;
  attempt: number;
  startedAt?: string;
  endedAt?: string;
  message?: string;
}

export interface RunRecord {
  id: string;
  counter: number;
  repository: string;
  commit: string;
  ref?: string;
  kind: 'pipeline' | 'step';
  name: string;
  status: RunStatus;
  parameters: Record<string, unknown>;
  nodes: RunNodeState[];
  trigger?: {
    event: string;
    deliveryId?: string;
    pullRequest?: number;
    sender?: string;
    fork?: boolean;
    /** Pull requests: the branch and commit the PR merges into. */
    baseRef?: string;
    baseSha?: string;
    headRef?: string;
    installationId?: number;
  };
  reason?: string;
  findings?: unknown[];
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  supersededBy?: string;
  /**
   * Where the code comes from (a local path or a clone URL); `tree` is the
   * git tree of an ad-hoc run's work tree (its `commit` is then `~<hash>`).
   */
  source?: { id: string; url: string; tree?: string };
  /** The configuration file used and the key of its stored text. */
  config?: { file: string; key: string };
  /** Queue the run's steps go to (a `kiln run` uses its own). */
  queue?: string;
  /** Untrusted runs (fork pull requests) never get secrets. */
  trusted?: boolean;
  /** Runtime that ran or will run the steps. */
  runtime?: 'docker' | 'kubernetes' | 'local';
}
