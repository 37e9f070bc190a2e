/** Checks across items: duplicate names, references between items. */
import type { RawItem } from './collect-items.js';
import type { Config } from './config-model.js';
import { formatSuggestion } from './closest-name.js';
import { isMapping, quoteName } from './describe-value.js';
import { addError, addWarning } from './finding-sink.js';
import type { FindingSink } from './finding-sink.js';
import { lintStep } from './lint-step.js';
import { lintSchedule } from './lint-schedule.js';
import { lintTask } from './lint-task.js';
import type { PathSegment } from './yaml-document.js';

function lintDuplicateNames(
  sink: FindingSink,
  options: { items: RawItem[]; kinds: readonly string[]; what: string },
): void {
  const seen = new Set<string>();
  for (const item of options.items) {
    if (!options.kinds.includes(item.kind) || !isMapping(item.value)) continue;
    const name = item.value.name;
    if (typeof name !== 'string') continue;
    if (seen.has(name)) {
      addWarning(
        sink,
        [...item.path, 'name'],
        `${options.what} ${quoteName(name)} is defined more than once; the last definition is used`,
      );
    }
    seen.add(name);
  }
}

function lintTrigger(
  sink: FindingSink,
  options: {
    raw: Record<string, unknown>;
    path: PathSegment[];
    config: Config;
  },
): void {
  const { raw, path, config } = options;
  if (isMapping(raw.schedule)) lintSchedule(sink, { raw, path });
  if (typeof raw.run !== 'string') return;
  const runnable = [
    ...config.pipelines.map((pipeline) => pipeline.name),
    ...config.steps.map((step) => step.name),
    ...config.tasks.map((task) => task.name),
  ];
  if (!runnable.includes(raw.run)) {
    addError(
      sink,
      [...path, 'run'],
      `trigger ${quoteName(typeof raw.name === 'string' ? raw.name : '')} runs ${quoteName(raw.run)}, which is not a pipeline, a step or a task${formatSuggestion(raw.run, runnable)}`,
    );
  }
}

function lintEndpoint(
  sink: FindingSink,
  options: { raw: Record<string, unknown>; path: PathSegment[] },
): void {
  const { raw, path } = options;
  const count =
    (raw.wsgi !== undefined ? 1 : 0) +
    (raw['server-command'] !== undefined ? 1 : 0);
  if (count !== 1) {
    addError(
      sink,
      path,
      `endpoint ${quoteName(typeof raw.name === 'string' ? raw.name : '')} needs exactly one of "wsgi" and "server-command"`,
    );
  }
}

function lintReport(
  sink: FindingSink,
  options: { raw: Record<string, unknown>; path: PathSegment[] },
): void {
  if (!Array.isArray(options.raw.metrics)) return;
  const seen = new Set<string>();
  options.raw.metrics.forEach((metric: unknown, index) => {
    if (!isMapping(metric) || typeof metric.name !== 'string') return;
    if (seen.has(metric.name)) {
      addWarning(
        sink,
        [...options.path, 'metrics', index, 'name'],
        `report metric ${quoteName(metric.name)} is listed twice`,
      );
    }
    seen.add(metric.name);
  });
}

export function lintItems(
  sink: FindingSink,
  options: { items: RawItem[]; config: Config },
): void {
  const { items, config } = options;
  lintDuplicateNames(sink, { items, kinds: ['step'], what: 'step' });
  lintDuplicateNames(sink, {
    items,
    kinds: ['pipeline', 'blueprint'],
    what: 'pipeline',
  });
  lintDuplicateNames(sink, { items, kinds: ['task'], what: 'task' });
  lintDuplicateNames(sink, { items, kinds: ['endpoint'], what: 'endpoint' });
  lintDuplicateNames(sink, { items, kinds: ['trigger'], what: 'trigger' });
  for (const item of items) {
    if (!isMapping(item.value)) continue;
    const raw = item.value;
    const path = item.path;
    if (item.kind === 'step') lintStep(sink, { raw, path });
    else if (item.kind === 'task') lintTask(sink, { raw, path, config });
    else if (item.kind === 'trigger') lintTrigger(sink, { raw, path, config });
    else if (item.kind === 'endpoint') lintEndpoint(sink, { raw, path });
    else if (item.kind === 'report') lintReport(sink, { raw, path });
  }
  if (items.filter((item) => item.kind === 'report').length > 1) {
    const second = items.filter((item) => item.kind === 'report')[1];
    if (second !== undefined) {
      addWarning(
        sink,
        second.path,
        'more than one "report" item; their metrics are combined',
      );
    }
  }
}
