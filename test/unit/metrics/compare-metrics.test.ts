import { describe, expect, it } from 'vitest';
import {
  compareMetrics,
  describeRegression,
  formatDelta,
  formatMetric,
} from '../../../src/metrics/compare-metrics.js';

const report = {
  metrics: [
    { name: 'accuracy', goal: 'maximize' as const, failIfRegressesBy: 0.02 },
    { name: 'loss', goal: 'minimize' as const },
  ],
};

describe('compareMetrics', () => {
  it.each([
    [
      'higher accuracy is better',
      'accuracy',
      0.961,
      0.973,
      'better',
      0.012,
      false,
    ],
    [
      'lower accuracy within the allowance is worse',
      'accuracy',
      0.961,
      0.95,
      'worse',
      -0.011,
      false,
    ],
    [
      'lower accuracy beyond the allowance regresses',
      'accuracy',
      0.961,
      0.91,
      'worse',
      -0.051,
      true,
    ],
    [
      'exactly the allowance does not regress',
      'accuracy',
      0.5,
      0.48,
      'worse',
      -0.02,
      false,
    ],
    ['lower loss is better', 'loss', 0.2, 0.18, 'better', -0.02, false],
    [
      'higher loss is worse, no allowance given',
      'loss',
      0.2,
      0.9,
      'worse',
      0.7,
      false,
    ],
    ['equal values are the same', 'loss', 0.2, 0.2, 'same', 0, false],
  ] as const)('%s', (_, name, base, head, verdict, delta, regresses) => {
    const [result] = compareMetrics({
      head: { [name]: head },
      base: { [name]: base },
      report: { metrics: report.metrics.filter((item) => item.name === name) },
    });

    expect(result?.verdict).toBe(verdict);
    expect(result?.delta).toBe(delta);
    expect(Boolean(result?.regression)).toBe(regresses);
  });

  it('lists the report metrics in order, new and gone ones included', () => {
    const results = compareMetrics({
      head: { accuracy: 0.9, other: 1 },
      base: { loss: 0.3 },
      report,
    });

    expect(results.map((item) => [item.name, item.verdict])).toEqual([
      ['accuracy', 'new'],
      ['loss', 'gone'],
    ]);
  });

  it('without a report compares every head metric, by name, with no judgement', () => {
    const results = compareMetrics({
      head: { b: 2, a: 'x' },
      base: { b: 1, a: 'y' },
    });

    expect(
      results.map((item) => [item.name, item.verdict, item.delta]),
    ).toEqual([
      ['a', 'changed', undefined],
      ['b', 'changed', 1],
    ]);
  });

  it('never judges non-finite numbers', () => {
    const [result] = compareMetrics({
      head: { accuracy: Number.NaN },
      base: { accuracy: 0.9 },
      report,
    });

    expect(result?.delta).toBeUndefined();
    expect(result?.regression).toBeUndefined();
  });
});

describe('describeRegression and formatting', () => {
  it('names the metric, the amount and the allowance', () => {
    const [result] = compareMetrics({
      head: { accuracy: 0.91 },
      base: { accuracy: 0.96 },
      report,
    });

    expect(describeRegression(result!, 'main')).toBe(
      'accuracy 0.91 is 0.05 below main (allowed 0.02)',
    );
  });

  it.each([
    [0.1 + 0.2, '0.3'],
    [1234567.891, '1234570'],
    [null, 'null'],
    [undefined, '—'],
    [true, 'true'],
  ] as const)('formats %s as %s', (value, text) => {
    expect(formatMetric(value)).toBe(text);
  });

  it('signs deltas', () => {
    expect([formatDelta(0.012), formatDelta(-3), formatDelta(0)]).toEqual([
      '+0.012',
      '-3',
      '0',
    ]);
  });
});
