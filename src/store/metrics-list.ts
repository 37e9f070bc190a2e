/** Reading an execution's metrics events (a capped Redis list of JSON). */
import type { Redis } from 'ioredis';
import type { MetricsEvent } from '../model/execution.js';

export async function readMetricsEvents(
  redis: Redis,
  key: string,
): Promise<MetricsEvent[]> {
  const texts = await redis.lrange(key, 0, -1);
  const events = texts.flatMap((text) => {
    const event = parseEvent(text);
    return event ? [event] : [];
  });
  // Appends from one writer are in order already; the stable sort only
  // fixes batches that raced.
  return events
    .map((event, index) => ({ event, index, at: Date.parse(event.time) }))
    .sort((a, b) => compareTimes(a.at, b.at) || a.index - b.index)
    .map((item) => item.event);
}

/**
 * Events in stored order from list position `from`; a list trimmed in
 * between (only past its cap) restarts at what is kept.
 */
export async function readMetricsFrom(
  redis: Redis,
  key: string,
  from: number,
): Promise<{ events: MetricsEvent[]; next: number }> {
  const start = Math.max(0, Math.trunc(from));
  const texts = await redis.lrange(key, start, start + 9_999);
  const events = texts.flatMap((text) => {
    const event = parseEvent(text);
    return event ? [event] : [];
  });
  return { events, next: start + texts.length };
}

function compareTimes(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return 0;
  return a - b;
}

function parseEvent(text: string): MetricsEvent | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const { time, values } = value as Record<string, unknown>;
    if (typeof time !== 'string') return null;
    if (typeof values !== 'object' || values === null) return null;
    return { time, values: values as MetricsEvent['values'] };
  } catch {
    return null;
  }
}
