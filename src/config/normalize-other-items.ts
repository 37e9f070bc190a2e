/** Normalises `task`, `trigger` and `report` items (best effort). */
import type {
  Report,
  ReportMetric,
  Task,
  Trigger,
  TriggerEvent,
  TriggerSchedule,
  VariantParameter,
} from './config-model.js';
import { DEFAULT_TIME_ZONE } from './cron-schedule.js';
import { isMapping } from './describe-value.js';
import {
  copyMapping,
  readBoolean,
  readMappingItems,
  readNumber,
  readString,
  readStringList,
} from './read-field.js';

/** `Bayesian-TPE` → `bayesian_tpe`, as valohai-yaml normalises task types. */
function normalizeTaskType(value: unknown): string {
  const text = readString(value);
  return text === undefined
    ? 'grid_search'
    : text.toLowerCase().replace(/-/g, '_');
}

export function normalizeTask(raw: Record<string, unknown>): Task {
  const task: Task = {
    name: readString(raw.name) ?? '',
    step: readString(raw.step) ?? '',
    type: normalizeTaskType(raw.type),
    parameters: readMappingItems(raw.parameters).map(
      ({ item }): VariantParameter => ({
        name: readString(item.name) ?? '',
        style: readString(item.style) ?? 'single',
        rules: copyMapping(item.rules),
      }),
    ),
    reuseChildren: readBoolean(raw['reuse-children'], false),
  };
  if (Array.isArray(raw['parameter-sets'])) {
    task.parameterSets = readMappingItems(raw['parameter-sets']).map(
      ({ item }) => copyMapping(item),
    );
  }
  const strings: [
    (
      | 'description'
      | 'optimizationTargetMetric'
      | 'engine'
      | 'onChildError'
      | 'stopCondition'
    ),
    string,
  ][] = [
    ['description', 'description'],
    ['optimizationTargetMetric', 'optimization-target-metric'],
    ['engine', 'engine'],
    ['onChildError', 'on-child-error'],
    ['stopCondition', 'stop-condition'],
  ];
  for (const [field, key] of strings) {
    const text = readString(raw[key]);
    if (text !== undefined) task[field] = text;
  }
  const numbers: [
    (
      | 'executionCount'
      | 'executionBatchSize'
      | 'maximumQueuedExecutions'
      | 'optimizationTargetValue'
    ),
    string,
  ][] = [
    ['executionCount', 'execution-count'],
    ['executionBatchSize', 'execution-batch-size'],
    ['maximumQueuedExecutions', 'maximum-queued-executions'],
    ['optimizationTargetValue', 'optimization-target-value'],
  ];
  for (const [field, key] of numbers) {
    const number = readNumber(raw[key]);
    if (number !== undefined) task[field] = number;
  }
  return task;
}

/**
 * A trigger's parameters become the given values of the runs it starts,
 * which are stored as JSON: an int beyond 2^53 is kept as its decimal text,
 * which every parameter type converts exactly as it would the int.
 */
function toGivenValues(
  values: Record<string, unknown>,
): Record<string, unknown> {
  const exact = (value: unknown): unknown =>
    typeof value === 'bigint'
      ? value.toString()
      : Array.isArray(value)
        ? value.map(exact)
        : value;
  for (const key of Object.keys(values)) values[key] = exact(values[key]);
  return values;
}

export function normalizeTrigger(raw: Record<string, unknown>): Trigger {
  const events = readStringList(raw.on).filter(
    (event): event is TriggerEvent =>
      event === 'push' || event === 'pull_request',
  );
  const schedule = normalizeSchedule(raw.schedule);
  return {
    name: readString(raw.name) ?? '',
    // A schedule runs on its clock only, never on a push or pull request.
    on: schedule
      ? []
      : raw.on === undefined
        ? ['push', 'pull_request']
        : events,
    ...(schedule ? { schedule } : {}),
    branches: readStringList(raw.branches),
    paths: readStringList(raw.paths),
    run: readString(raw.run) ?? '',
    parameters: toGivenValues(copyMapping(raw.parameters)),
    cancelSuperseded: readBoolean(raw['cancel-superseded'], true),
  };
}

function normalizeSchedule(value: unknown): TriggerSchedule | undefined {
  if (!isMapping(value)) return undefined;
  const branch = readString(value.branch);
  return {
    cron: readString(value.cron) ?? '',
    timezone: readString(value.timezone) ?? DEFAULT_TIME_ZONE,
    ...(branch !== undefined ? { branch } : {}),
    missed: value.missed === 'skip' ? 'skip' : 'run-once',
  };
}

export function normalizeReport(raw: Record<string, unknown>): Report {
  return {
    metrics: readMappingItems(raw.metrics).map(({ item }): ReportMetric => {
      const metric: ReportMetric = {
        name: readString(item.name) ?? '',
        goal: item.goal === 'minimize' ? 'minimize' : 'maximize',
      };
      const threshold = readNumber(item['fail-if-regresses-by']);
      if (threshold !== undefined) metric.failIfRegressesBy = threshold;
      return metric;
    }),
  };
}
