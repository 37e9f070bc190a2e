/**
 * What the pull-request report says of a run's tasks (sweeps): each task
 * node stands for its best child by the task's goal — its metrics are the
 * ones compared with the base branch, whose own task stands for its best
 * child the same way — and the comment gets a line per sweep: best child,
 * its value, how many children, and the base's best. Children and batch
 * joins are not listed one by one (a sweep may have thousands).
 */
import { summarizeTask, taskNodesOf } from '../control/summarize-task.js';
import type { ControlDeps } from '../control/control-deps.js';
import type { RunRecord } from '../model/run.js';
import type { TaskGoal } from '../orchestrator/task/task-goal.js';
import { escapeMarkdown } from './escape-markdown.js';
import { formatMetric } from './compare-metrics.js';

export interface SweepResult {
  node: string;
  status: string;
  children: number;
  goal?: TaskGoal;
  best?: { name: string; value: number; executionId?: string };
}

export async function readSweeps(
  deps: Pick<ControlDeps, 'runs' | 'executions' | 'configs'>,
  run: RunRecord,
): Promise<SweepResult[]> {
  const sweeps: SweepResult[] = [];
  for (const name of await taskNodesOf(deps, run)) {
    const task = await summarizeTask(deps, run, name);
    if (!task) continue;
    const sweep: SweepResult = {
      node: name,
      status: task.status,
      children: task.children.length,
    };
    if (task.goal) sweep.goal = task.goal;
    if (task.best) {
      const executionId = task.children.find(
        (child) => child.name === task.best?.name,
      )?.executionId;
      sweep.best = {
        ...task.best,
        ...(executionId ? { executionId } : {}),
      };
    }
    sweeps.push(sweep);
  }
  return sweeps;
}

/**
 * The run as the report shows it: its graph nodes only, each task node
 * carrying its best child's execution.
 */
export function viewByBestChild(
  run: RunRecord,
  sweeps: readonly SweepResult[],
): RunRecord {
  if (sweeps.length === 0) return run;
  const tasks = new Map(sweeps.map((sweep) => [sweep.node, sweep]));
  const nodes = run.nodes
    .filter((node) => {
      const match = /^(.+)[#@]\d+$/.exec(node.name);
      return !match || !tasks.has(match[1] as string);
    })
    .map((node) => {
      const best = tasks.get(node.name)?.best?.executionId;
      return best ? { ...node, executionId: best } : node;
    });
  return { ...run, nodes };
}

/** The comment's lines about sweeps (none when the run has no task). */
export function renderSweeps(
  head: readonly SweepResult[],
  base: readonly SweepResult[] | undefined,
  baseLabel: string,
): string[] {
  if (head.length === 0) return [];
  const lines = ['#### Sweeps', ''];
  for (const sweep of head) {
    const name = `**${escapeMarkdown(sweep.node)}**`;
    const against = base?.find((item) => item.node === sweep.node);
    const best =
      sweep.best && sweep.goal
        ? `best of ${sweep.children}: ${escapeMarkdown(sweep.best.name)} with ${escapeMarkdown(sweep.goal.metric)} ${formatMetric(sweep.best.value)}`
        : `${sweep.children} children, no best (${sweep.goal ? `none printed ${escapeMarkdown(sweep.goal.metric)}` : 'no goal metric'})`;
    const baseText =
      against?.best && against.goal
        ? ` · ${escapeMarkdown(baseLabel)}'s best of ${against.children}: ${formatMetric(against.best.value)}${verdict(sweep, against)}`
        : base
          ? ` · no sweep result on ${escapeMarkdown(baseLabel)}`
          : '';
    lines.push(`- ${name} (${sweep.status}): ${best}${baseText}`);
  }
  lines.push('');
  return lines;
}

function verdict(head: SweepResult, base: SweepResult): string {
  if (!head.best || !base.best || !head.goal) return '';
  const loss = (value: number) =>
    head.goal?.target !== undefined
      ? Math.abs(value - head.goal.target)
      : head.goal?.goal === 'maximize'
        ? -value
        : value;
  const delta = loss(head.best.value) - loss(base.best.value);
  if (delta < 0) return ' (better)';
  if (delta > 0) return ' (worse)';
  return ' (same)';
}
