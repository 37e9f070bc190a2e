/**
 * The harness every kiln benchmark runs on (docs benchmarks.md §9.0): the
 * subject and a side-by-side baseline run interleaved (ABAB…) in the same
 * process, after a discarded warm-up; the result is the median ratio with a
 * bootstrap 95% CI, which cancels the machine's speed. A measure passes only
 * if the whole CI is on the right side of its target.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapMedianRatio, median, percentile } from './bench-stats.js';

/**
 * A side of a measure. It may resolve `{ measuredMs }` to time only part of
 * its call — the span the measure defines (e.g. M2 counts from the root
 * step's end, not the run's creation) — instead of the whole call.
 */
export type BenchFunction = () => unknown;

function measuredOf(out: unknown): number | undefined {
  if (out === null || typeof out !== 'object') return undefined;
  const value = (out as { measuredMs?: unknown }).measuredMs;
  return typeof value === 'number' && Number.isFinite(value)
    ? value
    : undefined;
}

export interface BenchmarkOptions {
  /** Measure id, e.g. `M0`. */
  id: string;
  /** Short name, e.g. `config-plan`. */
  name: string;
  subject: BenchFunction;
  baseline: BenchFunction;
  /** Timed samples per side after the warm-up; at least 5. @defaultValue 15 */
  repetitions?: number;
  /** Calls per sample, so short work is timed well above timer noise. @defaultValue 1 */
  iterations?: number;
  /** Upper bound on subject time ÷ baseline time. */
  targetRatio: number;
  /** Extra facts for the JSON line (input size, versions, …). */
  details?: Record<string, unknown>;
  /** @defaultValue `<repo>/.bench-out/results.jsonl` */
  resultsFile?: string;
}

export interface SideStats {
  /** Milliseconds per call. */
  median: number;
  p95: number;
  samples: number[];
}

export interface BenchmarkResult {
  id: string;
  name: string;
  subject: SideStats;
  baseline: SideStats;
  ratio: number;
  ciLow: number;
  ciHigh: number;
  targetRatio: number;
  /** The whole CI is at or under the target. */
  pass: boolean;
  /** Baseline samples more than 15% off the baseline median (noisy box). */
  baselineDrift: number;
  /** The one-line summary that was printed. */
  summary: string;
}

const defaultResultsFile = join(
  dirname(dirname(fileURLToPath(import.meta.url))),
  '.bench-out',
  'results.jsonl',
);

/**
 * Runs one measure, prints its summary line on stdout and appends a JSON
 * line to the results file. Not concurrent-safe with itself: run measures
 * one after another so they do not compete for the CPU.
 */
export async function runBenchmark(
  options: BenchmarkOptions,
): Promise<BenchmarkResult> {
  const repetitions = Math.max(5, options.repetitions ?? 15);
  const iterations = Math.max(1, options.iterations ?? 1);
  const subject: number[] = [];
  const baseline: number[] = [];
  // Warm-up: JIT, caches and lazy imports, then thrown away.
  await timeOnce(options.baseline, iterations);
  await timeOnce(options.subject, iterations);
  for (let i = 0; i < repetitions; i += 1) {
    baseline.push(await timeOnce(options.baseline, iterations));
    subject.push(await timeOnce(options.subject, iterations));
  }
  const interval = bootstrapMedianRatio(subject, baseline);
  const baselineMedian = median(baseline);
  const result: BenchmarkResult = {
    id: options.id,
    name: options.name,
    subject: describeSide(subject),
    baseline: describeSide(baseline),
    ratio: interval.ratio,
    ciLow: interval.low,
    ciHigh: interval.high,
    targetRatio: options.targetRatio,
    pass: interval.high <= options.targetRatio,
    baselineDrift: baseline.filter(
      (sample) => Math.abs(sample - baselineMedian) > 0.15 * baselineMedian,
    ).length,
    summary: '',
  };
  result.summary = formatSummary(result);
  process.stdout.write(`${result.summary}\n`);
  appendResult(options, result, { repetitions, iterations });
  return result;
}

/** `M0 config-plan: subject X ms, baseline Y ms, ratio Z (95% CI a–b), target ≤ T` */
export function formatSummary(result: BenchmarkResult): string {
  return (
    `${result.id} ${result.name}: subject ${formatMs(result.subject.median)} ms, ` +
    `baseline ${formatMs(result.baseline.median)} ms, ratio ${result.ratio.toFixed(2)} ` +
    `(95% CI ${result.ciLow.toFixed(2)}–${result.ciHigh.toFixed(2)}), target ≤ ${result.targetRatio}`
  );
}

async function timeOnce(
  fn: BenchFunction,
  iterations: number,
): Promise<number> {
  // With --expose-gc, one side's garbage is not collected on the other's time.
  (globalThis as { gc?: () => void }).gc?.();
  const start = performance.now();
  let measured: number | undefined = 0;
  for (let i = 0; i < iterations; i += 1) {
    // Await only real promises: a sync subject must not pay a microtask.
    let out = fn();
    if (out instanceof Promise) out = await out;
    const part = measuredOf(out);
    measured =
      part === undefined || measured === undefined
        ? undefined
        : measured + part;
  }
  if (measured !== undefined) return measured / iterations;
  return (performance.now() - start) / iterations;
}

function describeSide(samples: number[]): SideStats {
  return { median: median(samples), p95: percentile(samples, 95), samples };
}

function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(4);
}

function appendResult(
  options: BenchmarkOptions,
  result: BenchmarkResult,
  settings: { repetitions: number; iterations: number },
): void {
  const file = options.resultsFile ?? defaultResultsFile;
  mkdirSync(dirname(file), { recursive: true });
  const line = {
    time: new Date().toISOString(),
    node: process.version,
    ...settings,
    ...result,
    details: options.details ?? {},
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}
