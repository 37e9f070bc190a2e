/**
 * M7a, step-output parsing throughput (docs benchmarks.md §9 M7): kiln's
 * stdout pipeline (`createOutputRecorder`: line splitter, timestamps, log
 * batching and cap, metric-line detection, `JSON.parse`, flattening) over a
 * generated 2M-line / ~100 MB log with ~2% JSON metrics lines, fed in
 * 64 KiB chunks. Baseline: a hand-rolled `Buffer.indexOf` splitter doing
 * the same `JSON.parse` on the lines starting with `{`. Sinks are no-ops
 * and masking is off on the subject side. Target: subject lines/s ≥ 0.5 ×
 * baseline, i.e. time ratio ≤ 2. Also prints the subject's peak RSS growth.
 *
 *   npx tsx bench/output-parsing.bench.ts   (or npm run bench:output)
 */
import { createOutputRecorder } from '../src/metrics/output-recorder.js';
import { createRandom } from './bench-stats.js';
import { runBenchmark } from './harness.js';

const LINES = 2_000_000;
const CHUNK = 64 * 1024;
const METRICS_SHARE = 0.02;

/** A deterministic log of plain lines and JSON metrics lines. */
export function generateLog(): { data: Buffer; metricsLines: number } {
  const random = createRandom(7);
  const parts: string[] = [];
  let metricsLines = 0;
  for (let i = 0; i < LINES; i += 1) {
    const epoch = Math.floor(i / 20_000);
    if (random() < METRICS_SHARE) {
      metricsLines += 1;
      parts.push(
        `{"epoch": ${epoch}, "step": ${i}, "loss": ${random().toFixed(6)}, "acc": ${random().toFixed(4)}}`,
      );
    } else {
      parts.push(
        `epoch ${epoch} step ${i} loss=${random().toFixed(4)} lr=0.001 batch ok`,
      );
    }
  }
  return { data: Buffer.from(`${parts.join('\n')}\n`), metricsLines };
}

function toChunks(data: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < data.length; start += CHUNK) {
    chunks.push(data.subarray(start, start + CHUNK));
  }
  return chunks;
}

function runSubject(chunks: Buffer[]): number {
  let lines = 0;
  let events = 0;
  const recorder = createOutputRecorder({
    onLogLines: (batch) => {
      lines += batch.length;
    },
    onMetrics: () => {
      events += 1;
    },
    // The stored-log cap is not what is measured: let every line through.
    maxLogBytes: Number.MAX_SAFE_INTEGER,
  });
  for (const chunk of chunks) recorder.stdout(chunk);
  recorder.end();
  return lines + events;
}

/** The hand-rolled floor: split on `\n`, parse only `{` lines. */
function runBaseline(chunks: Buffer[]): number {
  let lines = 0;
  let events = 0;
  let carry: Buffer | null = null;
  const onLine = (buffer: Buffer, start: number, end: number): void => {
    lines += 1;
    if (buffer[start] === 0x7b) {
      try {
        if (JSON.parse(buffer.toString('utf8', start, end)) !== null) {
          events += 1;
        }
      } catch {
        // Not a metrics line after all.
      }
    }
  };
  for (const chunk of chunks) {
    let start = 0;
    let next = chunk.indexOf(0x0a);
    if (carry !== null && next !== -1) {
      const line: Buffer = Buffer.concat([carry, chunk.subarray(0, next)]);
      onLine(line, 0, line.length);
      carry = null;
      start = next + 1;
      next = chunk.indexOf(0x0a, start);
    }
    while (next !== -1) {
      onLine(chunk, start, next);
      start = next + 1;
      next = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      carry = carry === null ? Buffer.from(rest) : Buffer.concat([carry, rest]);
    }
  }
  if (carry !== null) onLine(carry, 0, carry.length);
  return lines + events;
}

/** Peak growth of RSS and of live JS memory (heap + buffers) in one run. */
function measurePeakMemory(chunks: Buffer[]): { rss: number; live: number } {
  const live = () => {
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  const rssBefore = process.memoryUsage.rss();
  const liveBefore = live();
  let rss = rssBefore;
  let peakLive = liveBefore;
  const recorder = createOutputRecorder({
    onLogLines: () => undefined,
    onMetrics: () => undefined,
  });
  chunks.forEach((chunk, i) => {
    recorder.stdout(chunk);
    if (i % 64 === 0) {
      rss = Math.max(rss, process.memoryUsage.rss());
      peakLive = Math.max(peakLive, live());
    }
  });
  recorder.end();
  return { rss: rss - rssBefore, live: peakLive - liveBefore };
}

async function main(): Promise<void> {
  const { data, metricsLines } = generateLog();
  const chunks = toChunks(data);
  // Before anything else has grown the heap, so the growth is the recorder's.
  const peak = measurePeakMemory(chunks);
  // Both sides must see the same lines and events, or the ratio is void.
  const expected = runBaseline(chunks);
  const actual = runSubject(chunks);
  if (actual !== expected) {
    throw new Error(`subject counted ${actual}, baseline ${expected}`);
  }
  const result = await runBenchmark({
    id: 'M7a',
    name: 'output-parsing',
    subject: () => runSubject(chunks),
    baseline: () => runBaseline(chunks),
    repetitions: 7,
    targetRatio: 2,
    details: {
      lines: LINES,
      bytes: data.length,
      metricsLines,
      chunkBytes: CHUNK,
    },
  });
  const subjectRate = LINES / (result.subject.median / 1000);
  const baselineRate = LINES / (result.baseline.median / 1000);
  process.stdout.write(
    `M7a lines/s: subject ${(subjectRate / 1e6).toFixed(1)}M, ` +
      `baseline ${(baselineRate / 1e6).toFixed(1)}M, ` +
      `throughput ratio ${(subjectRate / baselineRate).toFixed(2)} ` +
      `(95% CI ${(1 / result.ciHigh).toFixed(2)}–${(1 / result.ciLow).toFixed(2)}), target ≥ 0.5; ` +
      `log ${(data.length / 1e6).toFixed(0)} MB, ${metricsLines} metrics lines; ` +
      `peak growth: RSS ${(peak.rss / 1024 / 1024).toFixed(1)} MiB, ` +
      `heap+buffers ${(peak.live / 1024 / 1024).toFixed(1)} MiB\n`,
  );
  if (!result.pass) process.exitCode = 1;
}

await main();
