/** Expression syntax, durations, name safety and typo suggestions. */
import { describe, expect, it } from 'vitest';
import { explainInvalidExpression } from '../../../src/config/evaluate-expression.js';
import { explainUnsafePathName } from '../../../src/config/check-path-name.js';
import { findClosestName } from '../../../src/config/closest-name.js';
import { parseDuration } from '../../../src/config/parse-duration.js';

describe('explainInvalidExpression', () => {
  it.each([
    'stop > 1',
    'metadata.accuracy >= 0.9',
    'loss < 1e-3 and not (epoch == 0)',
    "status != 'failed' or retries in (1, 2)",
    "metadata['loss'] < 0.1 and epoch not in [1, 2,]",
    '()  == ()',
    'a.b.c is not None',
    '-x + 2 * y ** 2 // 3 % 4 <= 10',
  ])('accepts %s', (text) => {
    expect(explainInvalidExpression(text)).toBeUndefined();
  });

  it.each([
    ['stop >', 'expected a value but the expression ended'],
    ['(a > 1', 'expected ")" but the expression ended'],
    ['a > 1)', 'expected an operator at ")"'],
    ['__import__("os").system("x")', 'expected an operator at "("'],
    ['a; b', 'unexpected character ";"'],
    ['a[1 > 0', 'expected "]" but the expression ended'],
    ['(1, 2', 'expected ")" but the expression ended'],
    ['', 'is empty'],
  ])('rejects %s', (text, reason) => {
    expect(explainInvalidExpression(text)).toBe(reason);
  });

  it('bounds depth and length', () => {
    expect(
      explainInvalidExpression(`${'('.repeat(200)}1${')'.repeat(200)}`),
    ).toBe('the expression nests too deeply');
    expect(explainInvalidExpression('a'.repeat(2000))).toMatch(/longer than/);
  });
});

describe('parseDuration', () => {
  it.each([
    [3600, 3600],
    ['90', 90],
    ['1h 30m', 5400],
    ['1h30m5s', 5405],
    ['2 days', 172_800],
    ['1w', 604_800],
    ['0.5h', 1800],
  ] as const)('reads %s as %s seconds', (value, seconds) => {
    expect(parseDuration(value)).toBe(seconds);
  });

  it.each([
    ['soon'],
    ['0'],
    ['-5m'],
    [''],
    ['5 lightyears'],
    [1.5],
    [0],
    [true],
  ])('rejects %s', (value) => {
    expect(parseDuration(value)).toBeUndefined();
  });
});

describe('explainUnsafePathName', () => {
  it.each(['data', 'train/images', 'model.pb', 'a..b', 'Hello world'])(
    'accepts %s',
    (name) => {
      expect(explainUnsafePathName(name)).toBeUndefined();
    },
  );

  it.each([
    ['../data', /escape/],
    ['a/../../b', /escape/],
    ['..', /escape/],
    ['/etc/shadow', /absolute/],
    ['..\\x', /backslash/],
    ['a\u0000b', /control/],
    ['a\u009bb', /control/],
  ])('rejects %j', (name, reason) => {
    expect(explainUnsafePathName(name)).toMatch(reason);
  });
});

describe('findClosestName', () => {
  const keys = ['image', 'command', 'parameters', 'inputs', 'outputs'];
  it('suggests plausible typos, swaps included', () => {
    expect(findClosestName('imagee', keys)).toBe('image');
    expect(findClosestName('comamnd', keys)).toBe('command');
    expect(findClosestName('Inputs', keys)).toBe('inputs');
  });
  it('does not guess for unrelated or very short names', () => {
    expect(findClosestName('network-mode', keys)).toBeUndefined();
    expect(findClosestName('c', ['a', 'b'])).toBeUndefined();
  });
});
