/**
 * What a task does as its children end, as pure decisions (Valohai's
 * semantics):
 *
 * - `on-child-error`: `stop-all-and-error` stops every other child at the
 *   first failed one and the task fails; `continue-and-error` lets the
 *   others run and fails the task at the end if any failed;
 *   `continue-and-complete` lets them run and completes the task anyway.
 *   kiln's default is `continue-and-error` (a sweep whose children fail
 *   says so).
 * - `stop-condition`: evaluated on each child that completes, over its
 *   metadata (and parameters); when it holds, the other children are
 *   stopped and the task completes.
 * - `maximum-queued-executions`: at most that many children queued or
 *   running at once (all at once when absent; a distributed task always
 *   starts all its members together).
 */
import type { Task } from '../../config/config-model.js';
import { evaluateExpression } from '../../config/evaluate-expression.js';

export const ON_CHILD_ERROR_POLICIES = [
  'continue-and-complete',
  'continue-and-error',
  'stop-all-and-error',
] as const;
export type OnChildError = (typeof ON_CHILD_ERROR_POLICIES)[number];

export const DEFAULT_ON_CHILD_ERROR: OnChildError = 'continue-and-error';

export function onChildErrorOf(task: Pick<Task, 'onChildError'>): OnChildError {
  const value = task.onChildError?.toLowerCase().replace(/_/g, '-');
  return (ON_CHILD_ERROR_POLICIES as readonly string[]).includes(value ?? '')
    ? (value as OnChildError)
    : DEFAULT_ON_CHILD_ERROR;
}

export interface ChildEnd {
  outcome: 'complete' | 'error' | 'stopped' | 'reused' | 'skipped';
  metadata: Readonly<Record<string, unknown>>;
  parameters: Readonly<Record<string, unknown>>;
}

export interface ChildEndDecision {
  /** Stop the task's other children, with this reason. */
  stop?: string;
  /** Something the operator should see (a stop-condition that can't be read). */
  note?: string;
}

/** Decides on one child's end whether the task stops its other children. */
export function decideChildEnd(
  task: Pick<Task, 'onChildError' | 'stopCondition'>,
  name: string,
  end: ChildEnd,
): ChildEndDecision {
  if (
    end.outcome === 'error' &&
    onChildErrorOf(task) === 'stop-all-and-error'
  ) {
    return {
      stop: `child "${name}" failed (on-child-error: stop-all-and-error)`,
    };
  }
  if (end.outcome === 'complete' && task.stopCondition) {
    const met = stopConditionMet(task.stopCondition, end);
    if (!met.ok) return { note: met.message };
    if (met.value) {
      return {
        stop: `child "${name}" met the stop-condition "${task.stopCondition}"`,
      };
    }
  }
  return {};
}

export function stopConditionMet(
  condition: string,
  end: Pick<ChildEnd, 'metadata' | 'parameters'>,
) {
  return evaluateExpression(condition, {
    metadata: end.metadata,
    parameters: end.parameters,
  });
}

export interface ChildSummary {
  name: string;
  status: string;
  metadata: Readonly<Record<string, unknown>>;
  parameters: Readonly<Record<string, unknown>>;
}

export interface TaskOutcome {
  status: 'complete' | 'error';
  message: string;
}

/** The task's end once no child is left, from its children's ends. */
export function decideTaskOutcome(
  task: Pick<Task, 'onChildError' | 'stopCondition'>,
  children: readonly ChildSummary[],
): TaskOutcome {
  const count = (status: string) =>
    children.filter((child) => child.status === status).length;
  const done = count('complete') + count('reused');
  const failed = children.filter((child) => child.status === 'error');
  const stoppedBy = task.stopCondition
    ? children.find(
        (child) =>
          (child.status === 'complete' || child.status === 'reused') &&
          stopConditionMet(task.stopCondition as string, child).ok &&
          (
            stopConditionMet(task.stopCondition as string, child) as {
              value: boolean;
            }
          ).value,
      )
    : undefined;
  const policy = onChildErrorOf(task);
  const summary = `${done} of ${children.length} children complete${
    failed.length > 0 ? `, ${failed.length} failed` : ''
  }${count('stopped') + count('skipped') > 0 ? `, ${count('stopped') + count('skipped')} stopped` : ''}`;
  if (failed.length > 0 && policy !== 'continue-and-complete') {
    const first = failed[0] as ChildSummary;
    return {
      status: 'error',
      message: `${summary} (on-child-error: ${policy}; first failed: "${first.name}")`,
    };
  }
  if (stoppedBy) {
    return {
      status: 'complete',
      message: `${summary}; "${stoppedBy.name}" met the stop-condition`,
    };
  }
  if (children.length > 0 && done === 0 && failed.length === 0) {
    return { status: 'error', message: `${summary}: no child ran` };
  }
  return { status: 'complete', message: summary };
}

/** Children queued or running at once. */
export function concurrencyOf(
  task: Pick<Task, 'type' | 'maximumQueuedExecutions'>,
  count: number,
): number {
  if (task.type === 'distributed') return Math.max(1, count);
  const limit = task.maximumQueuedExecutions;
  return limit !== undefined && limit >= 1
    ? Math.min(Math.floor(limit), Math.max(1, count))
    : Math.max(1, count);
}
