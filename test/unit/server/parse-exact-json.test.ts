import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExactJson } from '../../../src/server/parse-exact-json.js';

describe('parseExactJson', () => {
  it.each<[string, unknown]>([
    ['{"n": 9007199254740993}', { n: '9007199254740993' }],
    ['{"n":-9007199254740993}', { n: '-9007199254740993' }],
    [
      '[9007199254740991, 9007199254740992]',
      [9007199254740991, '9007199254740992'],
    ],
    // Not integers: read as JSON.parse reads them.
    ['{"n": 12345678901234567890.5}', { n: Number('12345678901234567890.5') }],
    ['{"n": 1234567890123456789e3}', { n: Number('1234567890123456789e3') }],
    [
      '{"s": "9007199254740993", "t": "\\"9007199254740993"}',
      { s: '9007199254740993', t: '"9007199254740993' },
    ],
    [
      '{"9007199254740993": 9007199254740993}',
      { '9007199254740993': '9007199254740993' },
    ],
    [
      '{"a": [1, {"b": 99999999999999999999}]}',
      { a: [1, { b: '99999999999999999999' }] },
    ],
  ])('reads %s', (text, expected) => {
    expect(parseExactJson(text)).toEqual(expected);
  });

  it.each([
    '{"n": 09007199254740993}',
    '{"n": --9007199254740993}',
    '{"n": 9007199254740993-1}',
    '{"n" 9007199254740993}',
    '[9007199254740993 9007199254740993]',
    '{"n": 9007199254740993',
  ])('refuses %s as JSON.parse does', (text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(() => parseExactJson(text)).toThrow(SyntaxError);
  });

  it('equals JSON.parse where no integer is beyond 2^53', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const exact = JSON.parse(text, (_key, value: unknown) =>
          typeof value === 'number' &&
          Number.isInteger(value) &&
          !Number.isSafeInteger(value)
            ? undefined
            : value,
        );
        fc.pre(JSON.stringify(exact) === JSON.stringify(JSON.parse(text)));
        expect(parseExactJson(text)).toEqual(JSON.parse(text));
      }),
    );
  });
});
