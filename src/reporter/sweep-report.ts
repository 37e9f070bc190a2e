/**
 * What the pull-request comment says of a run's tasks (sweeps): a line per
 * sweep — best child, its value, how many children, and the base's best
 * (control/read-sweeps.ts reads them).
 */
import type { SweepResult } from '../control/read-sweeps.js';
import { formatMetric } from '../metrics/compare-metrics.js';
import { escapeMarkdown } from './escape-markdown.js';

export type { SweepResult };

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
