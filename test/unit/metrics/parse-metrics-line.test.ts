import { describe, expect, it } from 'vitest';
import {
  MAX_METRIC_STRING_CHARS,
  MAX_METRICS_LINE_CHARS,
  parseMetricsLine,
} from '../../../src/metrics/parse-metrics-line.js';

describe('parseMetricsLine', () => {
  it.each([
    ['plain object', '{"loss": 0.25, "epoch": 3}', { loss: 0.25, epoch: 3 }, 0],
    ['leading whitespace', '  \t{"loss": 1}', { loss: 1 }, 0],
    [
      'strings, booleans, null',
      '{"s": "x", "b": true, "n": null}',
      { s: 'x', b: true, n: null },
      0,
    ],
    ['vh_metadata unwrapped', '{"vh_metadata": {"acc": 0.9}}', { acc: 0.9 }, 0],
    ['Python NaN dropped', '{"loss": NaN, "acc": 0.5}', { acc: 0.5 }, 1],
    [
      'Python Infinity dropped',
      '{"a": Infinity, "b": -Infinity, "c": 1}',
      { c: 1 },
      2,
    ],
    ['1e999 overflows and is dropped', '{"big": 1e999, "ok": 2}', { ok: 2 }, 1],
    [
      'nested flattened one level',
      '{"val": {"acc": 0.9, "loss": 0.1}}',
      { 'val.acc': 0.9, 'val.loss': 0.1 },
      0,
    ],
    ['deeper nesting dropped', '{"a": {"b": {"c": 1}}, "d": 1}', { d: 1 }, 1],
    [
      'lists of plain values kept as JSON text',
      '{"ids": ["a", "b"], "hist": [1, 2.5, null], "d": 1}',
      { ids: '["a","b"]', hist: '[1,2.5,null]', d: 1 },
      0,
    ],
    [
      'lists holding objects or lists dropped',
      '{"rows": [{"a": 1}], "grid": [[1]], "d": 1}',
      { d: 1 },
      2,
    ],
    ['duplicate keys: last wins', '{"a": 1, "a": 2}', { a: 2 }, 0],
    [
      'duplicate keys with NaN: last wins',
      '{"a": 1, "a": 2, "x": NaN}',
      { a: 2 },
      1,
    ],
    ['first object on a line only', '{"a": 1} {"b": 2}', { a: 1 }, 0],
    [
      'unsafe keys dropped',
      '{"__proto__": {"polluted": 1}, "constructor": 1, "prototype": 2, "ok": 1}',
      { ok: 1 },
      3,
    ],
    [
      'unsafe nested keys dropped',
      '{"m": {"__proto__": 1, "x": 2}}',
      { 'm.x': 2 },
      1,
    ],
  ])('%s', (_name, line, values, dropped) => {
    const result = parseMetricsLine(line);

    expect(result).toEqual({ values, dropped });
    if (result && 'values' in result) {
      expect(Object.getPrototypeOf(result.values)).toBeNull();
    }
  });

  it.each([
    ['an ordinary line', 'epoch 3 done'],
    ['an ANSI-prefixed JSON line', '\u001b[32m{"loss": 1}'],
    ['a JSON array', '[1, 2]'],
    ['a JSON number', '42'],
    ['a JSON string', '"{\\"a\\": 1}"'],
    ['an empty line', ''],
  ])('treats %s as a log line', (_name, line) => {
    expect(parseMetricsLine(line)).toBeNull();
  });

  it.each([
    ['truncated JSON', '{"loss": 0.2', 'invalid-json'],
    ['not JSON at all', '{ this is a log line }', 'invalid-json'],
    ['an empty object', '{}', 'no-values'],
    ['only non-finite values', '{"loss": NaN}', 'no-values'],
    ['10,000-deep nesting, unterminated', '{"a":'.repeat(10_000), 'too-deep'],
  ])('ignores %s with a reason', (_name, line, reason) => {
    const result = parseMetricsLine(line);

    expect(result).toMatchObject({ ignored: reason });
  });

  it('does not parse lines over the length cap', () => {
    const line = `{"pad": "${'x'.repeat(MAX_METRICS_LINE_CHARS)}"}`;

    expect(parseMetricsLine(line)).toEqual({ ignored: 'too-long', dropped: 0 });
  });

  it('drops 10,000-deep valid nesting without crashing', () => {
    const line = `{"deep": ${'['.repeat(10_000)}${']'.repeat(10_000)}, "ok": 1}`;

    expect(parseMetricsLine(line)).toEqual({ values: { ok: 1 }, dropped: 1 });
  });

  it('caps long string values', () => {
    const long = 'y'.repeat(MAX_METRIC_STRING_CHARS + 50);

    const result = parseMetricsLine(JSON.stringify({ note: long }));

    expect(result).toEqual({
      values: { note: long.slice(0, MAX_METRIC_STRING_CHARS) },
      dropped: 0,
    });
  });

  it('never pollutes Object.prototype', () => {
    parseMetricsLine('{"__proto__": {"polluted": true}, "a": NaN, "b": 1}');
    parseMetricsLine('{"constructor": {"prototype": {"polluted": true}}}');

    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
