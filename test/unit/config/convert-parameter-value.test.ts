import { describe, expect, it } from 'vitest';
import type {
  MultipleMode,
  ParameterType,
} from '../../../src/config/config-model.js';
import {
  checkParameterValue,
  convertParameterValue,
} from '../../../src/config/convert-parameter-value.js';
import { PyFloat, PyTimestamp } from '../../../src/config/py-scalars.js';
import { makeParameter } from '../../helpers/config-builders.js';

function convert(
  type: ParameterType,
  value: unknown,
  multiple: MultipleMode = 'none',
): unknown {
  const result = convertParameterValue(
    makeParameter({ name: 'p', type, multiple }),
    value,
  );
  return result.ok ? result.value : 'FAIL';
}

describe('convertParameterValue', () => {
  it.each<[unknown, unknown]>([
    [5, 5],
    [new PyFloat(5.9), 5],
    [new PyFloat(-5.9), -5],
    [new PyFloat(-0.5), 0],
    ['12', 12],
    [' 12\n', 12],
    ['-7', -7],
    ['+7', 7],
    ['010', 10],
    ['1_000', 1000],
    ['١٢', 12],
    [true, 1],
    [false, 0],
    ['99999999999999999999', 99999999999999999999n],
    [new PyFloat(1e20), 100000000000000000000n],
    ['5.0', 'FAIL'],
    ['abc', 'FAIL'],
    ['', 'FAIL'],
    ['1__0', 'FAIL'],
    ['_1', 'FAIL'],
    ['0x1F', 'FAIL'],
    ['1e3', 'FAIL'],
    [new PyFloat(Infinity), 'FAIL'],
    [new PyFloat(NaN), 'FAIL'],
    [[1], 'FAIL'],
    [new PyTimestamp('2024-01-01'), 'FAIL'],
  ])('integer: %s → %s', (value, expected) => {
    expect(convert('integer', value)).toEqual(expected);
  });

  it.each<[unknown, unknown]>([
    [1, new PyFloat(1)],
    [new PyFloat(0.5), new PyFloat(0.5)],
    ['1e-4', new PyFloat(0.0001)],
    ['1.0e5', new PyFloat(100000)],
    [' .5 ', new PyFloat(0.5)],
    ['5.', new PyFloat(5)],
    ['-0', new PyFloat(-0)],
    ['1_0.2_5', new PyFloat(10.25)],
    ['inf', new PyFloat(Infinity)],
    ['-Infinity', new PyFloat(-Infinity)],
    ['NaN', new PyFloat(NaN)],
    ['1e400', new PyFloat(Infinity)],
    [true, new PyFloat(1)],
    [false, new PyFloat(0)],
    ['abc', 'FAIL'],
    ['', 'FAIL'],
    ['.', 'FAIL'],
    ['1e', 'FAIL'],
    ['0x10', 'FAIL'],
    ['1,5', 'FAIL'],
    [[1.5], 'FAIL'],
  ])('float: %j → %j', (value, expected) => {
    expect(convert('float', value)).toEqual(expected);
  });

  it.each<[unknown, unknown]>([
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    [new PyFloat(1), true],
    ['yes', true],
    [' TRUE ', true],
    ['On', true],
    ['t', true],
    ['y', true],
    ['1', true],
    ['no', false],
    ['Off', false],
    ['F', false],
    ['n', false],
    ['0', false],
    ['false', false],
    [2, 'FAIL'],
    ['maybe', 'FAIL'],
    ['', 'FAIL'],
    [[true], 'FAIL'],
  ])('flag: %j → %j', (value, expected) => {
    expect(convert('flag', value)).toEqual(expected);
  });

  it.each<[unknown, unknown]>([
    [500, '500'],
    [new PyFloat(0.5), '0.5'],
    [new PyFloat(1), '1.0'],
    [true, 'True'],
    ['hello', 'hello'],
    [['a', 1], "['a', 1]"],
    [new PyTimestamp('2024-01-01'), '2024-01-01'],
  ])('string: %j → %j', (value, expected) => {
    expect(convert('string', value)).toEqual(expected);
  });

  it.each<[ParameterType, unknown, unknown]>([
    ['integer', [64, '32'], [64, 32]],
    ['integer', 7, [7]],
    ['integer', [], []],
    ['integer', [1, 'x'], 'FAIL'],
    ['integer', [[1]], 'FAIL'],
    ['float', ['1e-4', 2], [new PyFloat(0.0001), new PyFloat(2)]],
    ['string', [1, new PyFloat(2)], ['1', '2.0']],
  ])('multiple %s: %j → %j', (type, value, expected) => {
    expect(convert(type, value, 'separate')).toEqual(expected);
  });

  it('refuses ints longer than Python converts (4300 digits)', () => {
    expect(convert('integer', '9'.repeat(4300))).toBe(10n ** 4300n - 1n);
    expect(convert('integer', '9'.repeat(4301))).toBe('FAIL');
  });

  it('names the parameter and the value when it fails', () => {
    const result = convertParameterValue(
      makeParameter({ name: 'epochs', type: 'integer' }),
      '5.0',
    );

    expect(result).toEqual({
      ok: false,
      message: expect.stringMatching(/parameter "epochs".*"5\.0".*integer/),
    });
  });
});

describe('checkParameterValue', () => {
  it.each<[Record<string, unknown>, unknown, number]>([
    [{ type: 'integer', min: 1, max: 10 }, 5, 0],
    [{ type: 'integer', min: 1, max: 10 }, 0, 1],
    [{ type: 'integer', min: 1, max: 10 }, 11, 1],
    [{ type: 'float', min: 0.5 }, new PyFloat(0.25), 1],
    [{ type: 'integer', max: 10 }, [5, 11, 12], 2],
    [{ type: 'string', min: 1 }, 'abc', 0],
    [{ choices: ['adam', 'sgd'] }, 'adam', 0],
    [{ choices: ['adam', 'sgd'] }, 'adamw', 1],
    [{ type: 'integer', choices: [1, 2] }, 2, 0],
    [{ type: 'float', choices: [1, 2] }, new PyFloat(2), 0],
    [{ type: 'integer', choices: ['1'] }, 1, 1],
    [{ type: 'flag', choices: ['x'] }, true, 0],
  ])('%j with %j has %i problems', (fields, value, count) => {
    const parameter = makeParameter({ name: 'p', ...fields });

    expect(checkParameterValue(parameter, value)).toHaveLength(count);
  });

  it('says what is allowed', () => {
    const parameter = makeParameter({ name: 'opt', choices: ['adam', 'sgd'] });

    expect(checkParameterValue(parameter, 'adamw')).toEqual([
      expect.stringContaining('adam, sgd'),
    ]);
  });
});
