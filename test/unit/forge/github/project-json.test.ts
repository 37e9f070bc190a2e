/**
 * projectJson reads only the wanted fields of a JSON body, and must judge
 * the whole body exactly as JSON.parse does (a webhook body it accepts is
 * one GitHub could have sent). Checked on every example payload GitHub
 * documents, on hand-picked edge cases and on seeded random corruptions
 * of a real payload.
 */
import examples from '@octokit/webhooks-examples' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { projectJson } from '../../../../src/forge/github/project-json.js';
import {
  readTrimmedPayload,
  trimPayload,
} from '../../../../src/forge/github/trim-payload.js';
import { createRandom } from '../../../../bench/bench-stats.js';

const cases = (
  examples as unknown as Array<{ name: string; examples: unknown[] }>
).flatMap((group) =>
  group.examples.map((payload, index) => ({
    event: group.name,
    index,
    payload,
  })),
);

/** What JSON.parse makes of the text, in projectJson's terms. */
function builtIn(text: string): 'object' | 'not object' | 'invalid' {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? 'object'
      : 'not object';
  } catch {
    return 'invalid';
  }
}

function judged(text: string): 'object' | 'not object' | 'invalid' {
  const read = projectJson(Buffer.from(text), { a: true });
  if (read.ok) return 'object';
  return read.problem === 'the body is not a JSON object'
    ? 'not object'
    : 'invalid';
}

describe('readTrimmedPayload', () => {
  it.each(cases)(
    '$event example $index: the same fields as trimPayload on the parsed body',
    ({ event, payload }) => {
      const body = Buffer.from(JSON.stringify(payload, null, 2));

      const read = readTrimmedPayload(event, body);

      expect(read).toEqual({ ok: true, value: trimPayload(event, payload) });
    },
  );

  it('says what is wrong with a body that is not UTF-8, has a BOM or is not an object', () => {
    expect(readTrimmedPayload('push', Buffer.from([0x7b, 0xff, 0x7d]))).toEqual(
      { ok: false, problem: 'the body is not valid UTF-8' },
    );
    expect(readTrimmedPayload('push', Buffer.from('\uFEFF{}'))).toEqual({
      ok: false,
      problem: 'the body starts with a byte order mark; send plain JSON',
    });
    expect(readTrimmedPayload('push', Buffer.from('[1, 2]'))).toEqual({
      ok: false,
      problem: 'the body is not a JSON object',
    });
    expect(readTrimmedPayload('issues', Buffer.from('{"a": tru}'))).toEqual({
      ok: false,
      problem: 'the body is not valid JSON',
    });
  });
});

describe('projectJson', () => {
  it('keeps the last of duplicate keys, decodes escaped keys and never touches the prototype', () => {
    const text =
      '{"ref": "a", "r\\u0065f": "b", "__proto__": {"polluted": true}, "repository": {"id": 1, "id": 2, "name": "x"}}';

    const read = projectJson(Buffer.from(text), {
      ref: true,
      repository: { id: true },
      __proto__: true,
    } as never);

    expect(read.ok).toBe(true);
    const value = (read as { value: Record<string, unknown> }).value;
    expect(value.ref).toBe('b');
    expect(value.repository).toEqual({ id: 2 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps a value whole where it is not the object the fields expect', () => {
    const read = projectJson(Buffer.from('{"repository": ["a", {"id": 1}]}'), {
      repository: { id: true },
    });

    expect(read).toEqual({ ok: true, value: { repository: ['a', { id: 1 }] } });
  });

  it('steps over nesting far deeper than a recursive reader could', () => {
    const depth = 200_000;
    const text = `{"a": 1, "b": ${'['.repeat(depth)}${']'.repeat(depth)}}`;

    expect(projectJson(Buffer.from(text), { a: true })).toEqual({
      ok: true,
      value: { a: 1 },
    });
  });

  it.each([
    '{}',
    ' {"a" : [ ] , "b" : { } } ',
    '{"a": -0.5e+10, "b": 0, "c": [true, false, null, "\\u00e9\\n\\"", 1E3]}',
    '{"a": "é ü 😀"}',
    '{"a": 01}',
    '{"a": 1.}',
    '{"a": .5}',
    '{"a": +1}',
    '{"a": -}',
    '{"a": 1e}',
    '{"a": "\\x"}',
    '{"a": "\\u12"}',
    '{"a": "tab\there"}',
    '{"a": [1,]}',
    '{"a": 1,}',
    '{"a" 1}',
    '{a: 1}',
    "{'a': 1}",
    '{"a": 1}}',
    '{"a": 1} x',
    '{"a": [1}',
    '{"a": NaN}',
    '{"a": nul}',
    '{"a": truex}',
    '"just a string"',
    '42',
    'null',
    '',
    '   ',
  ])('judges %j as JSON.parse does', (text) => {
    expect(judged(text)).toBe(builtIn(text));
  });

  it('judges 3,000 random corruptions of a real payload as JSON.parse does', () => {
    const push = cases.find((item) => item.event === 'push')?.payload;
    const source = JSON.stringify(push, null, 1);
    const alphabet = '{}[]":,\\ \n0123456789-+.eEtrufalsn\u00e9';
    const random = createRandom(7);
    const verdicts = new Set<string>();
    for (let n = 0; n < 3_000; n += 1) {
      const chars = [...source];
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e += 1) {
        const at = Math.floor(random() * chars.length);
        const char = alphabet[Math.floor(random() * alphabet.length)]!;
        const kind = random();
        if (kind < 0.33) chars.splice(at, 1);
        else if (kind < 0.66) chars.splice(at, 0, char);
        else chars[at] = char;
      }
      const text = chars.join('');
      const expected = builtIn(text);
      verdicts.add(expected);

      expect(judged(text), text).toBe(expected);
    }
    // The corpus has both kinds, or it proves nothing.
    expect(verdicts).toEqual(new Set(['object', 'invalid']));
  });
});
