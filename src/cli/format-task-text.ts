/**
 * A task as text for `kiln show RUN[/TASK]` and the end of `kiln run
 * TASK`: its settings, the best child by its goal, and a table of the
 * children with their parameters and metrics.
 */
import type { TaskSummary } from '../control/summarize-task.js';
import {
  formatDuration,
  formatTable,
  formatValue,
} from '../model/format-values.js';

export function formatTaskText(
  task: TaskSummary,
  options: { children?: boolean } = {},
): string {
  const counts = Object.entries(task.counts)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
  const settings = [
    `on-child-error ${task.onChildError}`,
    ...(task.maximumQueuedExecutions !== undefined
      ? [`at most ${task.maximumQueuedExecutions} at once`]
      : []),
    ...(task.stopCondition ? [`stop-condition ${task.stopCondition}`] : []),
  ];
  const lines = [
    `task ${task.node}${task.task && task.task !== task.node ? ` (task ${task.task})` : ''} · ${task.type} · step ${task.step} · run ${task.runId}`,
    `state     ${task.status}${task.message ? ` — ${task.message}` : ''}`,
    `children  ${task.children.length}${counts ? ` (${counts})` : ''}`,
    `settings  ${settings.join(' · ')}`,
    `best      ${
      task.best && task.goal
        ? `${task.best.name}: ${task.goal.metric} = ${formatValue(task.best.value)} (${task.goal.target !== undefined ? `closest to ${task.goal.target}` : task.goal.goal})`
        : task.goal
          ? `none yet (${task.goal.metric}, ${task.goal.goal})`
          : 'no goal: set optimization-target-metric or a report metric'
    }`,
  ];
  if (options.children !== false && task.children.length > 0) {
    lines.push(
      '',
      formatTable(
        ['child', 'exec', 'state', ...task.parameters, ...task.metrics, 'time'],
        task.children.map((child) => [
          `${child.name}${child.name === task.best?.name ? ' *' : ''}`,
          child.counter !== undefined ? `#${child.counter}` : '',
          // Why a child did not complete, where a failed sweep is read first.
          child.message && child.status !== 'complete'
            ? `${child.status} — ${child.message}`
            : child.status,
          ...task.parameters.map((name) => cell(child.parameters[name])),
          ...task.metrics.map((name) => cell(child.metrics[name])),
          child.startedAt && child.endedAt
            ? formatDuration(
                Date.parse(child.endedAt) - Date.parse(child.startedAt),
              )
            : '',
        ]),
      ),
    );
  }
  return lines.join('\n');
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : formatValue(value);
}
