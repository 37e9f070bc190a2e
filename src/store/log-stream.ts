/**
 * An execution's log as a Redis stream whose entry ids are the lines' seq
 * (`<seq>-1`), so following a log from a seq is a range read.
 */
import type { Redis } from 'ioredis';
import type { MetricsEvent } from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';
import { appendOutputScript } from './execution-scripts.js';
import type { ReadLogOptions } from './execution-store.js';
import { runScript } from './store-script.js';

const BATCH = 1000;
const STREAMS: ReadonlySet<string> = new Set(['stdout', 'stderr', 'status']);

/** See `ExecutionStore.appendOutput`; bounded script calls for big batches. */
export async function appendOutput(
  redis: Redis,
  options: {
    logKey: string;
    metricsKey: string;
    maxLines: number;
    maxEvents: number;
    lines: readonly LogLine[];
    metrics: readonly MetricsEvent[];
  },
): Promise<number> {
  const lines = options.lines
    .filter((line) => Number.isSafeInteger(line.seq) && line.seq >= 0)
    .sort((a, b) => a.seq - b.seq);
  let added = 0;
  let metrics = options.metrics.map((event) => JSON.stringify(event));
  for (
    let start = 0;
    start < lines.length || metrics.length > 0;
    start += BATCH
  ) {
    const batch = lines.slice(start, start + BATCH);
    const args: Array<string | number> = [
      options.maxLines,
      options.maxEvents,
      batch.length,
    ];
    for (const line of batch) {
      args.push(line.seq, String(line.time), String(line.stream), line.text);
    }
    args.push(...metrics.slice(0, BATCH));
    metrics = metrics.slice(BATCH);
    const result = await runScript(redis, appendOutputScript, {
      keys: [options.logKey, options.metricsKey],
      args,
    });
    added += Number(result);
  }
  return added;
}

export async function readLogLines(
  redis: Redis,
  key: string,
  options: ReadLogOptions = {},
): Promise<LogLine[]> {
  const limit = Math.min(
    Math.max(Math.trunc(options.limit ?? 1000), 1),
    10_000,
  );
  const after = options.afterSeq;
  const before = options.beforeSeq;
  if (after === undefined && before !== undefined) {
    // Newest first from just below `before`, then back in order.
    const end =
      !Number.isFinite(before) || before > Number.MAX_SAFE_INTEGER
        ? '+'
        : before <= 0
          ? null
          : `${Math.trunc(before) - 1}-1`;
    if (end === null) return [];
    const entries = await redis.xrevrange(key, end, '-', 'COUNT', limit);
    return entries.reverse().map(([id, fields]) => toLogLine(id, fields));
  }
  if (after !== undefined && after >= Number.MAX_SAFE_INTEGER) return [];
  const start =
    after === undefined || !Number.isFinite(after) || after < 0
      ? '-'
      : `${Math.trunc(after) + 1}-0`;
  const entries = await redis.xrange(key, start, '+', 'COUNT', limit);
  return entries.map(([id, fields]) => toLogLine(id, fields));
}

export function toLogLine(id: string, fields: string[]): LogLine {
  const values: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2) {
    values[fields[index] ?? ''] = fields[index + 1] ?? '';
  }
  const stream = values.s ?? 'stdout';
  return {
    seq: Number(id.split('-')[0]),
    time: values.t ?? '',
    stream: (STREAMS.has(stream) ? stream : 'stdout') as LogLine['stream'],
    text: values.x ?? '',
  };
}
