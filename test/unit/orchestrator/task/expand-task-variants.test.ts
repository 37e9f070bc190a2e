import { describe, expect, it } from 'vitest';
import type { VariantParameter } from '../../../../src/config/config-model.js';
import { PyFloat } from '../../../../src/config/py-scalars.js';
import {
  expandTaskVariants,
  MAX_TASK_CHILDREN,
} from '../../../../src/orchestrator/task/expand-task-variants.js';
import { createSeededRandom } from '../../../../src/orchestrator/task/seeded-random.js';
import { variantValues } from '../../../../src/orchestrator/task/variant-values.js';

function variant(
  name: string,
  style: string,
  rules: Record<string, unknown>,
): VariantParameter {
  return { name, style, rules };
}

const random = createSeededRandom('test');

describe('variantValues', () => {
  it.each([
    ['single', { value: 25 }, [25]],
    ['multiple', { items: [25, 'a', true] }, [25, 'a', true]],
    ['linear', { start: 1, end: 3, step: 1 }, [1, 2, 3]],
    [
      'linear floats',
      { start: 0.1, end: 0.5, step: 0.1 },
      [0.1, 0.2, 0.3, 0.4, 0.5],
    ],
    ['linear down', { start: 3, end: 1, step: -1 }, [3, 2, 1]],
    ['logspace', { start: -3, end: -1, count: 3 }, [0.001, 0.01, 0.1]],
    [
      'logspace min/max base 2',
      { min: 0, max: 3, count: 4, base: 2 },
      [1, 2, 4, 8],
    ],
    [
      'logspace integerify',
      { start: 0, end: 2, count: 3, integerify: true },
      [1, 10, 100],
    ],
  ])('%s', (style, rules, expected) => {
    const result = variantValues(
      variant('p', style.split(' ')[0] as string, rules),
      random,
    );

    expect(result).toEqual({ ok: true, values: expected });
  });

  it('reads YAML floats and rounds with integerify', () => {
    const result = variantValues(
      variant('p', 'multiple', {
        items: [new PyFloat(1.4), 2],
        integerify: true,
      }),
      random,
    );

    expect(result).toEqual({ ok: true, values: [1, 2] });
  });

  it('draws count random values in range, the same for the same seed', () => {
    const rules = {
      min: 1e-4,
      max: 1e-1,
      count: 5,
      distribution: 'loguniform',
      seed: 42,
    };

    const first = variantValues(
      variant('lr', 'random', rules),
      createSeededRandom('a'),
    );
    const second = variantValues(
      variant('lr', 'random', rules),
      createSeededRandom('b'),
    );

    expect(first).toEqual(second);
    const values = (first as { values: number[] }).values;
    expect(values).toHaveLength(5);
    for (const value of values) {
      expect(value).toBeGreaterThanOrEqual(1e-4);
      expect(value).toBeLessThanOrEqual(1e-1);
    }
    expect(new Set(values).size).toBe(5);
  });

  it.each([
    ['single', {}, /needs "rules.value"/],
    ['multiple', { items: [] }, /non-empty list/],
    ['linear', { start: 1, end: 5, step: -1 }, /never goes from 1 to 5/],
    ['linear', { start: 1, end: 1e9, step: 1 }, /more than 100000 values/],
    ['logspace', { start: 1, end: 2 }, /"count" must be a whole number/],
    ['random', { min: 2, max: 1 }, /min ≤ max/],
    ['random', { min: 0, max: 1, distribution: 'loguniform' }, /min > 0/],
    [
      'random',
      { min: 0, max: 1, distribution: 'cauchy' },
      /must be one of uniform, loguniform, normal/,
    ],
    ['spiral', {}, /"style" must be one of/],
  ])('refuses %s %j', (style, rules, message) => {
    const result = variantValues(variant('p', style, rules), random);

    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toMatch(message);
  });
});

describe('expandTaskVariants', () => {
  it('grid_search: every combination, the first parameter slowest', () => {
    const result = expandTaskVariants(
      {
        type: 'grid_search',
        parameters: [
          variant('a', 'multiple', { items: [1, 2, 3] }),
          variant('b', 'linear', { start: 10, end: 40, step: 10 }),
        ],
      },
      'seed',
    );

    expect(result.ok).toBe(true);
    const sets = (result as { sets: Array<Record<string, unknown>> }).sets;
    expect(sets).toHaveLength(12);
    expect(sets.slice(0, 5)).toEqual([
      { a: 1, b: 10 },
      { a: 1, b: 20 },
      { a: 1, b: 30 },
      { a: 1, b: 40 },
      { a: 2, b: 10 },
    ]);
    expect(sets[11]).toEqual({ a: 3, b: 40 });
  });

  it('manual_search: exactly the parameter sets', () => {
    const sets = [{ a: 1, b: 'x' }, { a: new PyFloat(2.5) }];

    const result = expandTaskVariants(
      { type: 'manual_search', parameters: [], parameterSets: sets },
      'seed',
    );

    expect(result).toEqual({ ok: true, sets: [{ a: 1, b: 'x' }, { a: 2.5 }] });
  });

  it('manual_search without sets: the i-th value of each parameter', () => {
    const result = expandTaskVariants(
      {
        type: 'manual_search',
        parameters: [
          variant('a', 'multiple', { items: [1, 2] }),
          variant('b', 'multiple', { items: ['x', 'y'] }),
          variant('c', 'single', { value: true }),
        ],
      },
      'seed',
    );

    expect(result).toEqual({
      ok: true,
      sets: [
        { a: 1, b: 'x', c: true },
        { a: 2, b: 'y', c: true },
      ],
    });
  });

  it('manual_search refuses lists of different lengths', () => {
    const result = expandTaskVariants(
      {
        type: 'manual_search',
        parameters: [
          variant('a', 'multiple', { items: [1, 2] }),
          variant('b', 'multiple', { items: [1, 2, 3] }),
        ],
      },
      'seed',
    );

    expect(result.ok).toBe(false);
  });

  it('random_search: execution-count draws, reproducible with a seed', () => {
    const task = {
      type: 'random_search',
      executionCount: 6,
      parameters: [
        variant('lr', 'random', { min: 0, max: 1, seed: 3 }),
        variant('depth', 'multiple', { items: [1, 2, 3], seed: 4 }),
      ],
    };

    const first = expandTaskVariants(task, 'run-a/node');
    const second = expandTaskVariants(task, 'run-b/node');

    expect(first).toEqual(second);
    const sets = (first as { sets: Array<Record<string, number>> }).sets;
    expect(sets).toHaveLength(6);
    for (const set of sets) {
      expect(set.lr).toBeGreaterThanOrEqual(0);
      expect(set.lr).toBeLessThan(1);
      expect([1, 2, 3]).toContain(set.depth);
    }
  });

  it('random_search without seeds differs between runs, not between retries', () => {
    const task = {
      type: 'random_search',
      executionCount: 3,
      parameters: [variant('lr', 'random', { min: 0, max: 1 })],
    };

    expect(expandTaskVariants(task, 'run-a/n')).toEqual(
      expandTaskVariants(task, 'run-a/n'),
    );
    expect(expandTaskVariants(task, 'run-a/n')).not.toEqual(
      expandTaskVariants(task, 'run-b/n'),
    );
  });

  it('distributed: execution-count members with the same values', () => {
    const result = expandTaskVariants(
      { type: 'distributed', executionCount: 3, parameters: [] },
      'seed',
    );

    expect(result).toEqual({ ok: true, sets: [{}, {}, {}] });
  });

  it('refuses more children than the limit', () => {
    const result = expandTaskVariants(
      {
        type: 'grid_search',
        parameters: [
          variant('a', 'linear', { start: 1, end: 1000, step: 1 }),
          variant('b', 'linear', { start: 1, end: 1000, step: 1 }),
        ],
      },
      'seed',
    );

    expect(result).toEqual({
      ok: false,
      message: expect.stringContaining(
        `at most ${MAX_TASK_CHILDREN}`,
      ) as string,
    });
  });
});
