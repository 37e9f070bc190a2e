import { describe, expect, it } from 'vitest';
import { listSecretPatterns } from '../../../src/metrics/secret-masker.js';
import { createSplitSecretMasker } from '../../../src/metrics/split-secret-masker.js';

const TOKEN = `ghs_${'A1b2C3d4E5'.repeat(8)}`; // 84 characters

/** Pushes every line, then ends; returns the final text of each line. */
function run(secrets: string[], lines: string[]): string[] {
  const split = createSplitSecretMasker<number>(listSecretPatterns(secrets));
  const out: Array<{ item: number; text: string }> = [];
  lines.forEach((line, i) => out.push(...split.push(line, i)));
  out.push(...split.release());
  expect(out.map((line) => line.item)).toEqual(lines.map((_, i) => i));
  return out.map((line) => line.text);
}

describe('createSplitSecretMasker', () => {
  it.each([1, 2, 10, 42, 83])(
    'masks a secret split after %i characters, in both lines',
    (at) => {
      const lines = [`key: ${TOKEN.slice(0, at)}`, `${TOKEN.slice(at)} end`];

      expect(run([TOKEN], lines)).toEqual(['key: ***', '*** end']);
    },
  );

  it('masks a secret folded over many lines (fold -w 20)', () => {
    const lines = `${TOKEN}\n`.slice(0, -1).match(/.{1,20}/g)!;
    expect(lines).toHaveLength(5);

    expect(run([TOKEN], ['before', ...lines, 'after'])).toEqual([
      'before',
      '***',
      '***',
      '***',
      '***',
      '***',
      'after',
    ]);
  });

  it('masks the Base64 of a larger text wrapped at any width across the secret', () => {
    const encoded = Buffer.from(`user=me password=${TOKEN} ok`).toString(
      'base64',
    );
    const lines = encoded.match(/.{1,50}/g)!;

    const shown = run([TOKEN], lines).join('');

    // What is left decodes to none of the secret's 8-byte pieces.
    const left = shown.split('***');
    for (const part of left) {
      for (const skip of [0, 1, 2, 3]) {
        const bytes = Buffer.from(part.slice(skip), 'base64').toString(
          'latin1',
        );
        for (let i = 0; i + 8 <= TOKEN.length; i++) {
          expect(bytes).not.toContain(TOKEN.slice(i, i + 8));
        }
      }
    }
    expect(shown).toContain('***');
  });

  it('masks JSON-escaped and URL-encoded forms split across lines', () => {
    const secret = 'pa ss/"word"+x';
    const json = JSON.stringify(secret).slice(1, -1);
    const url = encodeURIComponent(secret);

    expect(run([secret], [json.slice(0, 5), json.slice(5)])).toEqual([
      '***',
      '***',
    ]);
    expect(run([secret], [`u=${url.slice(0, 7)}`, url.slice(7)])).toEqual([
      'u=***',
      '***',
    ]);
  });

  it('leaves pieces alone unless the lines join to the whole secret', () => {
    const lines = [
      `${TOKEN.slice(0, 40)}`,
      'unrelated',
      `${TOKEN.slice(40)}`,
      'ghs_',
      'A1b2',
    ];

    expect(run([TOKEN], lines)).toEqual(lines);
  });

  it('does not join across an empty line', () => {
    const lines = [TOKEN.slice(0, 30), '', TOKEN.slice(30)];

    expect(run([TOKEN], lines)).toEqual(lines);
  });

  it('masks two secrets on the same break, and a secret within a line', () => {
    const other = 'second-secret-value';
    const lines = [
      `a ${TOKEN.slice(0, 50)}`,
      `${TOKEN.slice(50)} b ${other.slice(0, 6)}`,
      `${other.slice(6)} c`,
    ];

    expect(run([TOKEN, other], lines)).toEqual(['a ***', '*** b ***', '*** c']);
  });

  it('holds a line only while its end could start a secret', () => {
    const split = createSplitSecretMasker<string>(listSecretPatterns([TOKEN]));

    expect(split.push('plain line', 'a')).toEqual([
      { item: 'a', text: 'plain line' },
    ]);
    expect(split.push(`x ${TOKEN.slice(0, 9)}`, 'b')).toEqual([]);
    expect(split.oldest()).toBe('b');
    expect(split.push('no continuation', 'c')).toEqual([
      { item: 'b', text: `x ${TOKEN.slice(0, 9)}` },
      { item: 'c', text: 'no continuation' },
    ]);
    expect(split.oldest()).toBeUndefined();
  });

  it('keeps the held lines bounded by the longest pattern', () => {
    const split = createSplitSecretMasker<number>(listSecretPatterns([TOKEN]));
    // Lines of one character each, all of them the token's start, forever:
    // never more lines held than the token is long.
    const longest = Math.max(
      ...listSecretPatterns([TOKEN]).map((p) => p.length),
    );
    let held = 0;
    let maxHeld = 0;
    for (let i = 0; i < 2000; i++) {
      held += 1 - split.push('g', i).length;
      maxHeld = Math.max(maxHeld, held);
    }
    expect(maxHeld).toBeLessThanOrEqual(longest);
    expect(maxHeld).toBeGreaterThan(0);
  });

  it('after a release, still masks the rest and counts the part let out', () => {
    const split = createSplitSecretMasker<number>(listSecretPatterns([TOKEN]));

    expect(split.push(TOKEN.slice(0, 30), 0)).toEqual([]);
    expect(split.release()).toEqual([{ item: 0, text: TOKEN.slice(0, 30) }]);
    expect(split.push(`${TOKEN.slice(30)}!`, 1)).toEqual([
      { item: 1, text: '***!' },
    ]);
    expect(split.partlyReleased()).toBe(1);
  });

  it('passes lines through when there are no secrets', () => {
    expect(run([], ['a', 'b'])).toEqual(['a', 'b']);
  });
});
