/**
 * A run: one triggered pipeline (or single step) pinned to one commit, made
 * of executions. Stored in Redis by the run store.
 */
export const RUN_STATUSES = [
  'created',
  'waiting-approval',
  'queued',
  'running',
  'complete',
  'error',
  'stopped',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const NODE_STATUSES = [
  'pending',
  'queued',
  'started',
  'complete',
  'error',
  'stopped',
  'skipped',
  'reused',
] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/**
 * What a started node is doing: pulling its image, downloading inputs,
 * running its commands, storing its outputs. Only a started node has one.
 */
export type NodePhase = 'pulling' | 'inputs' | 'running' | 'uploading';

export interface RunNodeState {
  name: string;
  step: string;
  /** Position in the run's graph order (stable; names executions). */
  index: number;
  status: NodeStatus;
  phase?: NodePhase;
  /**
   * Executions started for this node so far: each claim by a worker is a
   * new attempt with its own execution id. It fences writes: a worker whose
   * attempt is not the node's current one can't change the node.
   */
  attempt: number;
  /**
   * How many times kiln queued the node (a user-level retry queues it
   * again); step jobs carry it, so a job of an older queueing is stale.
   */
  generation: number;
  /** Failed attempts that were retried (`on-error: retry`). */
  failures?: number;
  executionId?: string;
  /** The worker holding the current attempt. */
  worker?: string;
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
  /** What `name` is: a pipeline, a single step or a task (a sweep). */
  kind: 'pipeline' | 'step' | 'task';
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
    /** A re-run: the run it repeats. */
    rerunOf?: string;
    /**
     * Reuse unchanged nodes: a node whose step, image, commands,
     * parameters and inputs match an earlier complete execution takes its
     * result instead of running (as `reuse-executions: true` does).
     */
    reuse?: boolean;
    /** The commit's message (its first line), when kiln knew it. */
    message?: string;
    /** Scheduled runs: the schedule's id and the tick (ISO) it ran for. */
    schedule?: string;
    tickAt?: string;
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
