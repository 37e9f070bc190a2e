/**
 * Metric curves from a step's metrics events: one series per numeric
 * metric, x is the `step`/`epoch`/`iteration` value when the step printed
 * one, else the event's position. Shared by the run page's charts and the
 * chart image of the PR comment. Pure.
 */
import type { MetricsEvent } from '../model/execution.js';

export interface ChartSeries {
  label: string;
  points: Array<[number, number]>;
}

const xKeys = ['step', 'epoch', 'iteration'] as const;

/** Numeric metric names in first-seen order, without the x key. */
export function metricNames(events: readonly MetricsEvent[]): string[] {
  const names: string[] = [];
  for (const event of events) {
    for (const [key, value] of Object.entries(event.values)) {
      if (typeof value === 'number' && !names.includes(key)) names.push(key);
    }
  }
  const x = xKeyOf(events);
  return names.filter((name) => name !== x).slice(0, 24);
}

export function xKeyOf(events: readonly MetricsEvent[]): string | undefined {
  return xKeys.find((key) =>
    events.some((event) => typeof event.values[key] === 'number'),
  );
}

export function seriesOf(
  events: readonly MetricsEvent[],
  metric: string,
  label: string,
): ChartSeries {
  const x = xKeyOf(events);
  const points: Array<[number, number]> = [];
  events.forEach((event, index) => {
    const value = event.values[metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    const at = x ? event.values[x] : index;
    points.push([typeof at === 'number' ? at : index, value]);
  });
  return { label, points };
}
