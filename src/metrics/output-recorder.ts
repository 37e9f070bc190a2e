/**
 * Turns a step's raw stdout/stderr chunks into stored log lines and metrics
 * events, with bounded memory whatever the step prints (reliability plan
 * §4.4, §8.2 rows 40–44).
 */
import type { MetricsEvent } from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';
import { createLineSplitter, type LineInfo } from './line-splitter.js';
import {
  looksLikeMetricsLine,
  parseMetricsLine,
} from './parse-metrics-line.js';
import { createSecretMasker, listSecretPatterns } from './secret-masker.js';
import {
  createSplitSecretMasker,
  type ReleasedLine,
  type SplitSecretMasker,
} from './split-secret-masker.js';

export interface OutputRecorderOptions {
  /** Clock for line timestamps. @defaultValue `() => new Date()` */
  now?: () => Date;
  /** Longer lines are cut with a marker. @defaultValue 65536 */
  maxLineBytes?: number;
  /** Log bytes stored per execution; later lines are counted only. @defaultValue 16 MiB */
  maxLogBytes?: number;
  /** Lines per `onLogLines` call. @defaultValue 200 */
  flushLines?: number;
  /**
   * Secret values masked in every stored line and every metrics line before
   * parsing (secret-masker.ts), also when the step prints one split across
   * lines of a stream (split-secret-masker.ts).
   */
  secrets?: readonly string[];
  /**
   * How long a line whose end could start a split secret waits for the next
   * line of its stream, checked on `flush`. @defaultValue 1000
   * A held line keeps its arrival time but gets its `seq` when stored, so
   * it can follow lines of the other stream that came after it.
   */
  holdMs?: number;
  /** Receives batches of masked lines in `seq` order. */
  onLogLines(lines: LogLine[]): void;
  /** Receives each metrics event (stdout JSON object lines only). */
  onMetrics(event: MetricsEvent): void;
}

export interface RecorderStats {
  /** Lines seen on both streams (stored or not). */
  lines: number;
  /** Raw bytes received on both streams. */
  bytes: number;
  metricsEvents: number;
  /** `{` lines that gave no event (invalid JSON, too long, no values). */
  ignoredMetricLines: number;
  /** Values left out of events (NaN/Infinity, deep nesting, unsafe keys). */
  droppedValues: number;
  truncatedLines: number;
  /** Bytes of lines not stored because `maxLogBytes` was reached. */
  droppedLogBytes: number;
  /**
   * Secrets split across lines whose line before the break was stored
   * before the next line came (after `holdMs`): that part is in clear.
   */
  partlyStoredSecrets: number;
}

/**
 * The runtime calls `stdout`/`stderr` with chunks as they arrive (in order
 * per stream), then `end` once. Sinks are called synchronously from those
 * calls. Lines are batched: call `flush` (e.g. on a timer) to hand out a
 * partial batch of a quiet step early. Calls after `end` are ignored.
 */
export interface OutputRecorder {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /**
   * Stores a line of kiln's own on stderr, in order with the step's lines:
   * not masked, not parsed, not counted against the log size.
   */
  note(text: string): void;
  flush(): void;
  end(): RecorderStats;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
export const DEFAULT_MAX_LOG_BYTES = 16 * 1024 * 1024;
export const DEFAULT_FLUSH_LINES = 200;
export const DEFAULT_HOLD_MS = 1000;

/** Where and when a line came: what a held line keeps until stored. */
interface Arrival {
  stream: LogLine['stream'];
  time: string;
}

export function createOutputRecorder(
  options: OutputRecorderOptions,
): OutputRecorder {
  const { onLogLines, onMetrics } = options;
  const secrets = options.secrets ?? [];
  const mask = secrets.length > 0 ? createSecretMasker(secrets) : undefined;
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  const patterns = listSecretPatterns(secrets);
  const splits: Record<LogLine['stream'], SplitSecretMasker<Arrival>> = {
    stdout: createSplitSecretMasker(patterns),
    stderr: createSplitSecretMasker(patterns),
  };
  const now = options.now ?? (() => new Date());
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxLogBytes = options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
  const flushLines = Math.max(1, options.flushLines ?? DEFAULT_FLUSH_LINES);
  const stats: RecorderStats = {
    lines: 0,
    bytes: 0,
    metricsEvents: 0,
    ignoredMetricLines: 0,
    droppedValues: 0,
    truncatedLines: 0,
    droppedLogBytes: 0,
    partlyStoredSecrets: 0,
  };
  let batch: LogLine[] = [];
  let seq = 0;
  let storedBytes = 0;
  let capped = false;
  let ended = false;
  // Lines of one chunk arrived together: one clock read per chunk keeps the
  // per-line cost low.
  let time = '';

  function store(stream: LogLine['stream'], text: string, at = time): void {
    batch.push({ seq: seq++, time: at, stream, text });
    if (batch.length >= flushLines) flushBatch();
  }

  function record(
    stream: LogLine['stream'],
    text: string,
    info: LineInfo,
  ): void {
    stats.lines++;
    // Fast path for the common line: short enough, log not full.
    if (!info.truncated && !capped && storedBytes + info.bytes < maxLogBytes) {
      storedBytes += info.bytes + 1;
      if (mask === undefined) {
        store(stream, text);
        if (stream === 'stdout' && looksLikeMetricsLine(text)) {
          recordMetrics(text, time);
        }
      } else {
        storeFinal(splits[stream].push(mask(text), { stream, time }));
      }
      return;
    }
    recordSlow(stream, text, info);
  }

  /** Stores lines whose text is final; a metrics line gives its event. */
  function storeFinal(lines: Array<ReleasedLine<Arrival>>): void {
    for (const { item, text } of lines) {
      store(item.stream, text, item.time);
      if (item.stream === 'stdout' && looksLikeMetricsLine(text)) {
        recordMetrics(text, item.time);
      }
    }
  }

  /** Truncated lines and lines at the cap. */
  function recordSlow(
    stream: LogLine['stream'],
    text: string,
    info: LineInfo,
  ): void {
    if (info.truncated) stats.truncatedLines++;
    // A cut or dropped line ends a join: what it printed is not all there.
    if (mask !== undefined) storeFinal(splits[stream].reset());
    const masked = mask === undefined ? text : mask(text);
    const size = Math.min(info.bytes, maxLineBytes) + 1;
    if (capped || storedBytes + size > maxLogBytes) {
      // Once full, stay full: a log with holes in it would mislead.
      capped = true;
      stats.droppedLogBytes += size;
    } else {
      storedBytes += size;
      store(
        stream,
        info.truncated
          ? `${masked} … [kiln: line truncated, ${info.bytes} bytes]`
          : masked,
      );
    }
    if (stream === 'stdout' && looksLikeMetricsLine(masked)) {
      if (info.truncated) stats.ignoredMetricLines++;
      else recordMetrics(masked, time);
    }
  }

  /** `visible` is the masked line. */
  function recordMetrics(visible: string, at: string): void {
    const parsed = parseMetricsLine(visible);
    if (parsed === null) return;
    stats.droppedValues += parsed.dropped;
    if ('ignored' in parsed) {
      stats.ignoredMetricLines++;
      return;
    }
    stats.metricsEvents++;
    onMetrics({ time: at, values: parsed.values });
  }

  const out = createLineSplitter({
    maxLineBytes,
    onLine: (line, info) => record('stdout', line, info),
  });
  const err = createLineSplitter({
    maxLineBytes,
    onLine: (line, info) => record('stderr', line, info),
  });

  function flush(): void {
    releaseOverdue();
    flushBatch();
  }

  /**
   * A held line waits at most `holdMs` for its stream's next line: a quiet
   * step's last line still shows, and the live log lags by that at most.
   */
  function releaseOverdue(): void {
    if (mask === undefined) return;
    const limit = now().getTime() - holdMs;
    for (const split of [splits.stdout, splits.stderr]) {
      const oldest = split.oldest();
      if (oldest !== undefined && Date.parse(oldest.time) <= limit) {
        storeFinal(split.release());
      }
    }
  }

  function flushBatch(): void {
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    onLogLines(lines);
  }

  function push(
    splitter: ReturnType<typeof createLineSplitter>,
    chunk: Buffer,
  ): void {
    if (ended) return;
    stats.bytes += chunk.length;
    time = now().toISOString();
    splitter.push(chunk);
  }

  function end(): RecorderStats {
    if (!ended) {
      ended = true;
      time = now().toISOString();
      out.end();
      err.end();
      storeFinal(splits.stdout.release());
      storeFinal(splits.stderr.release());
      stats.partlyStoredSecrets =
        splits.stdout.partlyReleased() + splits.stderr.partlyReleased();
      if (stats.droppedLogBytes > 0) {
        batch.push({
          seq: seq++,
          time,
          stream: 'stderr',
          text: `[kiln] log truncated: ${stats.droppedLogBytes} bytes not stored (limit ${maxLogBytes})`,
        });
      }
      flushBatch();
    }
    return { ...stats };
  }

  return {
    note: (text) => {
      if (ended) return;
      store('stderr', text, now().toISOString());
    },
    stdout: (chunk) => push(out, chunk),
    stderr: (chunk) => push(err, chunk),
    flush,
    end,
  };
}
