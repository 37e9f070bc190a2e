/**
 * shellQuote against a real POSIX shell: whatever the token, `sh` must
 * hand the program exactly that token back as one argument.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../../src/config/shell-quote.js';

function echoThroughShell(tokens: string[]): string[] {
  const script = `for a in ${tokens.map(shellQuote).join(' ')}; do printf '%s\\0' "$a"; done`;
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('shellQuote in sh', () => {
  it.each([
    [''],
    ["it's"],
    ['$HOME ${X} $(id) `id`'],
    ['a b\tc\nd'],
    ['"\\\'*?[]{}~!#&|;<>()'],
    ['日本 héllo'],
  ])('keeps %j as one argument', (token) => {
    expect(echoThroughShell([token])).toEqual([token]);
  });

  it('keeps any token without NUL intact', () => {
    const token = fc
      .string({ unit: 'grapheme', maxLength: 40 })
      .filter((text) => !text.includes('\0'));

    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 8 }), (tokens) => {
        expect(echoThroughShell(tokens)).toEqual(tokens);
      }),
      { numRuns: 40 },
    );
  });
});
