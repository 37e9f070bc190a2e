import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringifyExactJson } from '../../../src/config/stringify-exact-json.js';

describe('stringifyExactJson', () => {
  it.each<[unknown, string]>([
    [9007199254740993n, '9007199254740993'],
    [{ n: 9007199254740993n }, '{\n  "n": 9007199254740993\n}'],
    [
      [-123456789012345678901234567890n],
      '[\n  -123456789012345678901234567890\n]',
    ],
    [
      { a: [], b: {}, c: undefined, d: null },
      '{\n  "a": [],\n  "b": {},\n  "d": null\n}',
    ],
    [[undefined], '[\n  null\n]'],
  ])('prints %s exactly', (value, expected) => {
    expect(stringifyExactJson(value)).toBe(expected);
  });

  it('prints without indentation when asked', () => {
    expect(stringifyExactJson({ a: [1n, 'x'] }, 0)).toBe('{"a":[1,"x"]}');
  });

  it('equals JSON.stringify on plain data', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.integer({ min: 0, max: 4 }),
        (value, indent) => {
          expect(stringifyExactJson(value, indent)).toBe(
            JSON.stringify(value, null, indent),
          );
        },
      ),
    );
  });
});
