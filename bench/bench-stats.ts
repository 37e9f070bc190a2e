/**
 * Statistics for the benchmark harness: medians, percentiles and a
 * bootstrap confidence interval of the subject/baseline median ratio.
 * Deterministic (seeded) so that the same samples give the same interval.
 */

/** Linear-interpolated percentile (p in 0–100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] ?? NaN;
  const highValue = sorted[high] ?? NaN;
  return lowValue + (highValue - lowValue) * (rank - low);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** mulberry32: a small seeded generator, good enough for resampling. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RatioInterval {
  /** median(subject) / median(baseline) of the samples themselves. */
  ratio: number;
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** @defaultValue 2000 */
  resamples?: number;
  /** @defaultValue 0.95 */
  confidence?: number;
  /** @defaultValue 1 */
  seed?: number;
}

/**
 * Percentile bootstrap: both sides are resampled independently with
 * replacement and the ratio of medians recomputed each time.
 */
export function bootstrapMedianRatio(
  subject: readonly number[],
  baseline: readonly number[],
  options: BootstrapOptions = {},
): RatioInterval {
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  const random = createRandom(options.seed ?? 1);
  const draw = (samples: readonly number[]): number[] =>
    samples.map(() => samples[Math.floor(random() * samples.length)] ?? NaN);
  const ratios: number[] = [];
  for (let i = 0; i < resamples; i += 1) {
    ratios.push(median(draw(subject)) / median(draw(baseline)));
  }
  const tail = ((1 - confidence) / 2) * 100;
  return {
    ratio: median(subject) / median(baseline),
    low: percentile(ratios, tail),
    high: percentile(ratios, 100 - tail),
  };
}
