import { describe, expect, it } from 'vitest';
import { PyFloat, PyTimestamp } from '../../../src/config/py-scalars.js';
import { pythonStr } from '../../../src/config/python-str.js';

describe('pythonStr', () => {
  it.each([
    [1, '1.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1e16, '1e+16'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e22, '1e+22'],
    [123456789012345, '123456789012345.0'],
    [-0, '-0.0'],
    [0, '0.0'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
    [1.5e16, '1.5e+16'],
    [9999999999999998, '9999999999999998.0'],
    [1.23e-7, '1.23e-07'],
    [-2.5, '-2.5'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
  ])('renders the float %s as %s', (value, expected) => {
    expect(pythonStr(new PyFloat(value))).toBe(expected);
  });

  it.each([
    [5, '5'],
    [-12, '-12'],
    [1e21, '1000000000000000000000'],
    [2n ** 70n, '1180591620717411303424'],
    [true, 'True'],
    [false, 'False'],
    [null, 'None'],
    ['hello world', 'hello world'],
    ['', ''],
    [new PyTimestamp('2024-01-02 03:04:05'), '2024-01-02 03:04:05'],
  ])('renders %s as %s', (value, expected) => {
    expect(pythonStr(value)).toBe(expected);
  });

  it.each([
    [['a', 1], "['a', 1]"],
    [[], '[]'],
    [[new PyFloat(2), true, null], '[2.0, True, None]'],
    [["it's"], '["it\'s"]'],
    [['a"b\'c'], "['a\"b\\'c']"],
    [['line\nnext\t\\'], "['line\\nnext\\t\\\\']"],
    [['\u00a0é'], "['\\xa0é']"],
    [[[1, 2], ['x']], "[[1, 2], ['x']]"],
  ])('renders the list %j as Python does', (value, expected) => {
    expect(pythonStr(value)).toBe(expected);
  });
});
