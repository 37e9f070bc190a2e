/**
 * `format(value, spec)` against CPython: the fixture holds what Python
 * 3.11 printed (or raised) for every pair of a set of values and specs
 * (test/fixtures/python-format/generate.py), and a few cases are spelled
 * out here to read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkFormatSpec,
  formatPythonValue,
} from '../../../src/config/format-python-value.js';
import type { PyKind } from '../../../src/config/format-python-value.js';
import { PyFloat } from '../../../src/config/py-scalars.js';

type Case = [PyKind, string | boolean, string, 'text' | 'error', string];

const fixture = JSON.parse(
  readFileSync(
    join(
      import.meta.dirname,
      '..',
      '..',
      'fixtures',
      'python-format',
      'format-cases.json',
    ),
    'utf8',
  ),
) as { cases: Case[] };

function decode(kind: PyKind, value: string | boolean): unknown {
  if (kind === 'int') {
    const big = BigInt(value as string);
    return Number.isSafeInteger(Number(big)) ? Number(big) : big;
  }
  if (kind === 'float') {
    const text = value as string;
    return new PyFloat(
      text === 'inf'
        ? Infinity
        : text === '-inf'
          ? -Infinity
          : text === 'nan'
            ? NaN
            : Number(text),
    );
  }
  return value;
}

describe('formatPythonValue against CPython', () => {
  it('has the fixture', () => {
    expect(fixture.cases.length).toBeGreaterThan(3000);
  });

  it('prints or refuses every case as Python does', () => {
    const mismatches: string[] = [];
    for (const [kind, value, spec, outcome, expected] of fixture.cases) {
      const result = formatPythonValue(decode(kind, value), spec);
      const actual = result.ok
        ? ['text', result.text]
        : ['error', result.message];
      // What fails for every value of a kind is caught without a value.
      const problem = checkFormatSpec(kind, spec);
      if (
        actual[0] !== outcome ||
        actual[1] !== expected ||
        (problem !== undefined && problem !== expected)
      ) {
        mismatches.push(
          `${kind} ${String(value)} ${JSON.stringify(spec)}: Python ${outcome} ${JSON.stringify(expected)}, kiln ${JSON.stringify(actual)}`,
        );
      }
    }

    expect(mismatches).toEqual([]);
  });
});

describe('formatPythonValue', () => {
  it.each<[unknown, string, string]>([
    [7, '03d', '007'],
    [7, '>4', '   7'],
    [1234567, ',', '1,234,567'],
    [9007199254740993n, ',', '9,007,199,254,740,993'],
    [255, '#x', '0xff'],
    [0.125, '.2f', '0.12'],
    [new PyFloat(0.125), '.2f', '0.12'],
    [new PyFloat(1e-5), '.2e', '1.00e-05'],
    [new PyFloat(0.5), '.0%', '50%'],
    [true, '', 'True'],
    [true, 'd', '1'],
    ['ab', '^6', '  ab  '],
    ['abc', '.2', 'ab'],
  ])('%s with %j gives %j', (value, spec, expected) => {
    expect(formatPythonValue(value, spec)).toEqual({
      ok: true,
      text: expected,
    });
  });

  it.each<[unknown, string, string]>([
    [0x110000, 'c', '%c arg not in range(0x110000)'],
    [-1, 'c', '%c arg not in range(0x110000)'],
    [2n ** 1024n, 'e', 'int too large to convert to float'],
    [
      0xd800,
      'c',
      '%c of 55296 is a lone surrogate, which kiln cannot pass in a command',
    ],
  ])('refuses %s with %j at format time: %j', (value, spec, message) => {
    expect(checkFormatSpec('int', spec)).toBeUndefined();
    expect(formatPythonValue(value, spec)).toEqual({ ok: false, message });
  });
});
