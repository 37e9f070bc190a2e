import { describe, expect, it } from 'vitest';
import {
  bootstrapMedianRatio,
  createRandom,
  median,
  percentile,
} from '../../../bench/bench-stats.js';

describe('percentile', () => {
  it.each<[number[], number, number]>([
    [[3, 1, 2], 50, 2],
    [[4, 1, 3, 2], 50, 2.5],
    [[1, 2, 3, 4, 5], 0, 1],
    [[1, 2, 3, 4, 5], 100, 5],
    [[1, 2, 3, 4, 5], 95, 4.8],
    [[7], 95, 7],
  ])('of %j at %i is %d', (samples, p, expected) => {
    expect(percentile(samples, p)).toBeCloseTo(expected, 10);
  });

  it('is NaN without samples', () => {
    expect(median([])).toBeNaN();
  });
});

describe('createRandom', () => {
  it('repeats the same sequence for the same seed, in [0, 1)', () => {
    const a = createRandom(7);
    const b = createRandom(7);

    const first = Array.from({ length: 100 }, () => a());
    const second = Array.from({ length: 100 }, () => b());

    expect(first).toEqual(second);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(first).size).toBe(100);
  });
});

describe('bootstrapMedianRatio', () => {
  it('gives the ratio of medians inside its interval', () => {
    const baseline = [10, 11, 9, 10, 12, 10, 9];
    const subject = baseline.map((x) => x * 2);

    const interval = bootstrapMedianRatio(subject, baseline);

    expect(interval.ratio).toBe(2);
    expect(interval.low).toBeLessThanOrEqual(interval.ratio);
    expect(interval.high).toBeGreaterThanOrEqual(interval.ratio);
  });

  it('has no width when both sides are constant', () => {
    const interval = bootstrapMedianRatio([3, 3, 3, 3, 3], [1, 1, 1, 1, 1]);

    expect(interval).toEqual({ ratio: 3, low: 3, high: 3 });
  });

  it('widens with noisier samples', () => {
    const calm = bootstrapMedianRatio([10, 10, 11, 10, 9], [5, 5, 5, 5, 5]);
    const noisy = bootstrapMedianRatio([2, 30, 10, 18, 4], [5, 5, 5, 5, 5]);

    expect(noisy.high - noisy.low).toBeGreaterThan(calm.high - calm.low);
  });
});
