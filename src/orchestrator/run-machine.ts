/**
 * The state machine of a run: `(state, event) → (state′, effects)`, pure.
 * The only place that decides a run's status; the store applies its
 * answers with a compare-and-set on the status they were computed from.
 *
 *   waiting-approval ──approve──▶ queued ──node-started──▶ running ──drained──▶ complete │ error │ stopped
 *          ▲                        │                        │
 *          └──────action(hold)──────┴────────────────────────┘
 *   any non-terminal ──cancel──▶ cancelled      ──fail / action──▶ error │ stopped
 *
 * Terminal statuses (complete, error, stopped, cancelled) never change.
 */
import type { RunRecord, RunStatus } from '../model/run.js';

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = [
  'complete',
  'error',
  'stopped',
  'cancelled',
];

/** Statuses of a run that may still start or run steps. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = [
  'created',
  'waiting-approval',
  'queued',
  'running',
];

/** Statuses in which a worker may take one of the run's steps. */
export const CLAIMABLE_RUN_STATUSES: readonly RunStatus[] = [
  'created',
  'queued',
  'running',
];

export function isFinalRunStatus(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

/** The part of a run the machine changes. */
export type RunControl = Pick<
  RunRecord,
  'status' | 'reason' | 'startedAt' | 'endedAt' | 'supersededBy'
>;

export type RunMachineEvent =
  /** A node was claimed by a worker. */
  | { type: 'node-started' }
  /** Every node is terminal; `failed` names the ones that fail the run. */
  | { type: 'drained'; failed: string[]; stopped: number }
  /** A person, a closed PR or a deleted branch cancels the run. */
  | { type: 'cancel'; reason: string }
  /** A newer push of the same pipeline and ref replaces the run. */
  | { type: 'superseded'; reason: string; by: string }
  /** A node failed with `on-error: stop-all`, or the plan is gone. */
  | { type: 'fail'; reason: string }
  /** A node's `actions` fired (`stop-pipeline`, `error-pipeline`, `require-approval`). */
  | {
      type: 'action';
      status: 'stopped' | 'error' | 'waiting-approval';
      reason: string;
    }
  /** Someone allowed to approves a held run. */
  | { type: 'approve'; approver: string };

export type RunEffect =
  /** Stop every non-terminal node with this reason. */
  | { type: 'wind-down'; reason: string }
  /** Queue the pending nodes whose upstream nodes are all satisfied. */
  | { type: 'release-ready' };

export type RunTransition =
  | { applied: true; run: RunControl; effects: RunEffect[] }
  | { applied: false; why: string };

/**
 * What a first claim does to the run, for the store to apply atomically
 * with the claim: the run statuses `node-started` moves, and where to.
 */
export const RUN_START: { from: readonly RunStatus[]; to: RunStatus } = {
  from: (['created', 'waiting-approval', 'queued', 'running'] as const).filter(
    (status) => runTransition({ status }, { type: 'node-started' }, '').applied,
  ),
  to: 'running',
};

/** The status a new run starts in. */
export function initialRunStatus(options: {
  /** Why the run can't start (invalid configuration, bad parameters). */
  invalid?: string;
  /** Why the run waits for approval (a pull request from a fork). */
  hold?: string;
}): RunStatus {
  if (options.invalid !== undefined) return 'error';
  if (options.hold !== undefined) return 'waiting-approval';
  return 'queued';
}

export function runTransition(
  run: RunControl,
  event: RunMachineEvent,
  now: string,
): RunTransition {
  if (isFinalRunStatus(run.status)) {
    return { applied: false, why: `run is ${run.status} (terminal)` };
  }
  switch (event.type) {
    case 'node-started':
      if (run.status !== 'created' && run.status !== 'queued') {
        return { applied: false, why: `run is ${run.status}` };
      }
      return applied(
        { ...run, status: 'running', startedAt: run.startedAt ?? now },
        [],
      );
    case 'drained': {
      if (event.failed.length > 0) {
        return applied(
          {
            ...run,
            status: 'error',
            reason: `${event.failed.map((name) => `"${name}"`).join(', ')} failed`,
            endedAt: now,
          },
          [],
        );
      }
      if (event.stopped > 0) {
        return applied(
          {
            ...run,
            status: 'stopped',
            reason: 'a node was stopped',
            endedAt: now,
          },
          [],
        );
      }
      return applied(
        { ...run, status: 'complete', reason: undefined, endedAt: now },
        [],
      );
    }
    case 'cancel':
      return applied(
        { ...run, status: 'cancelled', reason: event.reason, endedAt: now },
        [{ type: 'wind-down', reason: event.reason }],
      );
    case 'superseded':
      return applied(
        {
          ...run,
          status: 'cancelled',
          reason: event.reason,
          supersededBy: event.by,
          endedAt: now,
        },
        [{ type: 'wind-down', reason: event.reason }],
      );
    case 'fail':
      return applied(
        { ...run, status: 'error', reason: event.reason, endedAt: now },
        [{ type: 'wind-down', reason: event.reason }],
      );
    case 'action':
      if (event.status === 'waiting-approval') {
        if (run.status === 'waiting-approval') {
          return { applied: false, why: 'run already waits for approval' };
        }
        return applied(
          { ...run, status: 'waiting-approval', reason: event.reason },
          [],
        );
      }
      return applied(
        { ...run, status: event.status, reason: event.reason, endedAt: now },
        [{ type: 'wind-down', reason: event.reason }],
      );
    case 'approve':
      if (run.status !== 'waiting-approval') {
        return {
          applied: false,
          why: `run is ${run.status}, not waiting for approval`,
        };
      }
      return applied(
        {
          ...run,
          status: run.startedAt ? 'running' : 'queued',
          reason: `approved by @${event.approver} at ${now}`,
        },
        [{ type: 'release-ready' }],
      );
  }
}

function applied(run: RunControl, effects: RunEffect[]): RunTransition {
  return { applied: true, run, effects };
}
