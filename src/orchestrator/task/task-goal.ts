/**
 * What "best" means for a task's children: the metric and its direction.
 * A `bayesian_tpe` task's `optimization-target-metric` drives the metric
 * towards `optimization-target-value` when one is given (the closest
 * child is best), else in the direction a `report` metric of that name
 * says, else down (a loss). Other tasks use their
 * `optimization-target-metric` the same way when they have one, else the
 * first `report` metric the children print.
 */
import type { Report, Task } from '../../config/config-model.js';

export interface TaskGoal {
  metric: string;
  goal: 'minimize' | 'maximize';
  /** The value to get as close as possible to (overrides `goal`). */
  target?: number;
}

export function taskGoalOf(
  task: Pick<Task, 'optimizationTargetMetric' | 'optimizationTargetValue'>,
  reports: readonly Report[],
  printed?: ReadonlySet<string>,
): TaskGoal | undefined {
  const metrics = reports.flatMap((report) => report.metrics);
  const metric = task.optimizationTargetMetric;
  if (metric) {
    const reported = metrics.find((item) => item.name === metric);
    return {
      metric,
      goal: reported?.goal ?? 'minimize',
      ...(task.optimizationTargetValue !== undefined
        ? { target: task.optimizationTargetValue }
        : {}),
    };
  }
  const reported = metrics.find((item) => !printed || printed.has(item.name));
  return reported ? { metric: reported.name, goal: reported.goal } : undefined;
}

/** Lower is better; undefined when the child has no number for the metric. */
export function lossOf(
  goal: TaskGoal,
  metadata: Readonly<Record<string, unknown>>,
): number | undefined {
  const value = metadata[goal.metric];
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (goal.target !== undefined) return Math.abs(value - goal.target);
  return goal.goal === 'maximize' ? -value : value;
}

/** The best of some children (the first one on a tie). */
export function bestOf<
  T extends { metadata: Readonly<Record<string, unknown>> },
>(goal: TaskGoal, children: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestLoss = Number.POSITIVE_INFINITY;
  for (const child of children) {
    const loss = lossOf(goal, child.metadata);
    if (loss !== undefined && loss < bestLoss) {
      best = child;
      bestLoss = loss;
    }
  }
  return best;
}
