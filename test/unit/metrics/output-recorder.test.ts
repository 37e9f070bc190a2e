import { describe, expect, it } from 'vitest';
import type { MetricsEvent } from '../../../src/model/execution.js';
import type { LogLine } from '../../../src/model/log-line.js';
import {
  createOutputRecorder,
  type OutputRecorderOptions,
} from '../../../src/metrics/output-recorder.js';

function setup(options: Partial<OutputRecorderOptions> = {}) {
  const batches: LogLine[][] = [];
  const events: MetricsEvent[] = [];
  let tick = 0;
  const recorder = createOutputRecorder({
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)),
    onLogLines: (lines) => batches.push(lines),
    onMetrics: (event) => events.push(event),
    ...options,
  });
  return { recorder, batches, events, lines: () => batches.flat() };
}

describe('createOutputRecorder', () => {
  it('stores lines of both streams in order with seq and arrival time', () => {
    const { recorder, lines } = setup();

    recorder.stdout(Buffer.from('hello\nwor'));
    recorder.stderr(Buffer.from('oops\n'));
    recorder.stdout(Buffer.from('ld\n'));
    recorder.end();

    expect(lines()).toEqual([
      {
        seq: 0,
        time: '2026-01-01T00:00:00.000Z',
        stream: 'stdout',
        text: 'hello',
      },
      {
        seq: 1,
        time: '2026-01-01T00:00:01.000Z',
        stream: 'stderr',
        text: 'oops',
      },
      {
        seq: 2,
        time: '2026-01-01T00:00:02.000Z',
        stream: 'stdout',
        text: 'world',
      },
    ]);
  });

  it('emits metrics from stdout only, with the line time', () => {
    const { recorder, events, lines } = setup();

    recorder.stdout(Buffer.from('{"loss": 0.5, "bad": NaN}\n'));
    recorder.stderr(Buffer.from('{"loss": 9}\n'));
    recorder.stdout(Buffer.from('{"vh_metadata": {"acc": 1}}\n'));
    const stats = recorder.end();

    expect(events).toEqual([
      { time: '2026-01-01T00:00:00.000Z', values: { loss: 0.5 } },
      { time: '2026-01-01T00:00:02.000Z', values: { acc: 1 } },
    ]);
    expect(lines()).toHaveLength(3);
    expect(stats).toMatchObject({ metricsEvents: 2, droppedValues: 1 });
  });

  it('counts ignored metric lines and keeps them as log lines', () => {
    const { recorder, events, lines } = setup();

    recorder.stdout(Buffer.from('{"loss": 0.\n{}\n\u001b[1m{"a":1}\n'));
    const stats = recorder.end();

    expect(events).toEqual([]);
    expect(stats.ignoredMetricLines).toBe(2);
    expect(lines().map((l) => l.text)).toEqual([
      '{"loss": 0.',
      '{}',
      '\u001b[1m{"a":1}',
    ]);
  });

  it('caps the stored log, adds one marker line, keeps parsing metrics', () => {
    const { recorder, events, lines } = setup({ maxLogBytes: 25 });

    // Each line is 9 bytes + newline: two fit, the rest do not.
    recorder.stdout(Buffer.from('line-0001\nline-0002\nline-0003\n'));
    recorder.stdout(Buffer.from('{"a": 11}\nshort\n'));
    const stats = recorder.end();

    expect(lines().map((l) => l.text)).toEqual([
      'line-0001',
      'line-0002',
      '[kiln] log truncated: 26 bytes not stored (limit 25)',
    ]);
    expect(lines().map((l) => l.seq)).toEqual([0, 1, 2]);
    expect(events.map((e) => e.values)).toEqual([{ a: 11 }]);
    expect(stats).toMatchObject({
      lines: 5,
      droppedLogBytes: 26,
      metricsEvents: 1,
      bytes: 46,
    });
  });

  it('marks truncated long lines and does not parse them as metrics', () => {
    const { recorder, events, lines } = setup({ maxLineBytes: 8 });

    recorder.stdout(Buffer.from('{"loss": 1}\n0123456789abc\n'));
    const stats = recorder.end();

    expect(lines().map((l) => l.text)).toEqual([
      '{"loss": … [kiln: line truncated, 11 bytes]',
      '01234567 … [kiln: line truncated, 13 bytes]',
    ]);
    expect(events).toEqual([]);
    expect(stats).toMatchObject({ truncatedLines: 2, ignoredMetricLines: 1 });
  });

  it('masks secrets in stored lines and in metric values', () => {
    const { recorder, events, lines } = setup({ secrets: ['s3cr3t-value'] });

    recorder.stdout(
      Buffer.from('token s3cr3t-value\n{"note": "s3cr3t-value"}\n'),
    );
    recorder.stderr(Buffer.from('Authorization: czNjcjN0LXZhbHVl\n'));
    recorder.end();

    expect(lines().map((l) => l.text)).toEqual([
      'token ***',
      '{"note": "***"}',
      'Authorization: ***',
    ]);
    expect(events.map((e) => e.values)).toEqual([{ note: '***' }]);
  });

  it('masks a secret split across lines; holds a line that could start one', () => {
    const secret = 'tok-9f8e7d6c5b4a';
    const { recorder, lines, events } = setup({
      secrets: [secret],
      holdMs: 60_000,
    });

    recorder.stdout(Buffer.from('step 1\nkey=tok-9f8e'));
    recorder.stderr(Buffer.from('warn\n'));
    recorder.stdout(Buffer.from('\n'));
    // The line that could start the secret is not handed out yet.
    recorder.flush();
    expect(lines().map((l) => l.text)).toEqual(['step 1', 'warn']);
    recorder.stdout(Buffer.from('7d6c5b4a used\n{"loss": 0.5}\n'));
    recorder.end();

    expect(lines().map((l) => `${l.seq} ${l.stream} ${l.text}`)).toEqual([
      '0 stdout step 1',
      '1 stderr warn',
      '2 stdout key=***',
      '3 stdout *** used',
      '4 stdout {"loss": 0.5}',
    ]);
    // Each line keeps its own arrival time; metrics still come per line.
    expect(lines()[2]!.time).toBe('2026-01-01T00:00:02.000Z');
    expect(events.map((e) => e.values)).toEqual([{ loss: 0.5 }]);
  });

  it('lets a held line go after holdMs; the rest of the secret is still masked', () => {
    let ms = 0;
    const secret = 'tok-9f8e7d6c5b4a';
    const { recorder, lines } = setup({
      secrets: [secret],
      holdMs: 1000,
      now: () => new Date(ms),
    });

    recorder.stdout(Buffer.from('key=tok-9f8e\n'));
    ms = 999;
    recorder.flush();
    expect(lines()).toEqual([]);
    ms = 1000;
    recorder.flush();
    expect(lines().map((l) => l.text)).toEqual(['key=tok-9f8e']);
    recorder.stdout(Buffer.from('7d6c5b4a\n'));
    const stats = recorder.end();

    expect(lines().map((l) => l.text)).toEqual(['key=tok-9f8e', '***']);
    expect(stats.partlyStoredSecrets).toBe(1);
  });

  it("stores kiln's own lines on stderr, in order, as they are", () => {
    const { recorder, lines, events } = setup({ secrets: ['s3cr3t-value'] });

    recorder.note('[kiln] image x is not pinned');
    recorder.stdout(Buffer.from('{"a": 1}\n'));
    recorder.end();
    recorder.note('late');

    expect(lines().map((l) => `${l.seq} ${l.stream} ${l.text}`)).toEqual([
      '0 stderr [kiln] image x is not pinned',
      '1 stdout {"a": 1}',
    ]);
    expect(events).toHaveLength(1);
  });

  it('masks metric lines read after the log cap too', () => {
    const { recorder, events } = setup({
      secrets: ['s3cr3t-value'],
      maxLogBytes: 1,
    });

    recorder.stdout(Buffer.from('{"note": "s3cr3t-value"}\n'));
    recorder.end();

    expect(events.map((e) => e.values)).toEqual([{ note: '***' }]);
  });

  it('hands out lines in batches of flushLines and the rest at end', () => {
    const { recorder, batches } = setup({ flushLines: 200 });
    const text = Array.from({ length: 450 }, (_, i) => `l${i}\n`).join('');

    recorder.stdout(Buffer.from(text));
    const sizesBeforeEnd = batches.map((b) => b.length);
    recorder.end();

    expect(sizesBeforeEnd).toEqual([200, 200]);
    expect(batches.map((b) => b.length)).toEqual([200, 200, 50]);
    expect(batches.flat().map((l) => l.seq)).toEqual(
      Array.from({ length: 450 }, (_, i) => i),
    );
  });

  it('flush() hands out a partial batch early', () => {
    const { recorder, batches } = setup();

    recorder.stdout(Buffer.from('a\nb\n'));
    recorder.flush();

    expect(batches.map((b) => b.map((l) => l.text))).toEqual([['a', 'b']]);
  });

  it('emits an unterminated last line at end and ignores later chunks', () => {
    const { recorder, lines } = setup();

    recorder.stdout(Buffer.from('partial'));
    const stats = recorder.end();
    recorder.stdout(Buffer.from('late\n'));
    const again = recorder.end();

    expect(lines().map((l) => l.text)).toEqual(['partial']);
    expect(stats).toEqual({
      lines: 1,
      bytes: 7,
      metricsEvents: 0,
      ignoredMetricLines: 0,
      droppedValues: 0,
      truncatedLines: 0,
      droppedLogBytes: 0,
      partlyStoredSecrets: 0,
    });
    expect(again).toEqual(stats);
  });
});
