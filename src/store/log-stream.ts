/**
 * An execution's log as a Redis stream whose entry ids are the lines' seq
 * (`<seq>-1`), so following a log from a seq is a range read.
 */
import type { Redis } from 'ioredis';
import type { LogLine } from '../model/log-line.js';
import { appendLogScript } from './execution-scripts.js';
import type { ReadLogOptions } from './execution-store.js';
import { runScript } from './store-script.js';

const BATCH = 1000;
const STREAMS: ReadonlySet<string> = new Set(['stdout', 'stderr', 'status']);

export async function appendLogLines(
  redis: Redis,
  options: { key: string; maxLines: number; lines: readonly LogLine[] },
): Promise<number> {
  const lines = options.lines
    .filter((line) => Number.isSafeInteger(line.seq) && line.seq >= 0)
    .sort((a, b) => a.seq - b.seq);
  let added = 0;
  // Bounded script calls: a huge batch never becomes one giant EVALSHA.
  for (let start = 0; start < lines.length; start += BATCH) {
    const args: Array<string | number> = [options.maxLines];
    for (const line of lines.slice(start, start + BATCH)) {
      args.push(line.seq, String(line.time), String(line.stream), line.text);
    }
    const result = await runScript(redis, appendLogScript, {
      keys: [options.key],
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
  if (after !== undefined && after >= Number.MAX_SAFE_INTEGER) return [];
  const start =
    after === undefined || !Number.isFinite(after) || after < 0
      ? '-'
      : `${Math.trunc(after) + 1}-0`;
  const entries = await redis.xrange(key, start, '+', 'COUNT', limit);
  return entries.map(([id, fields]) => toLogLine(id, fields));
}

function toLogLine(id: string, fields: string[]): LogLine {
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
