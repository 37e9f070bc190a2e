import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../../src/config/shell-quote.js';

describe('shellQuote', () => {
  it.each([
    ['', "''"],
    ['plain', 'plain'],
    ['--lr=0.001', '--lr=0.001'],
    ['a/b.c,d:e@f%g+h-i_j', 'a/b.c,d:e@f%g+h-i_j'],
    ['hello world', "'hello world'"],
    ["it's", `'it'"'"'s'`],
    ['"quoted"', `'"quoted"'`],
    ['$HOME', "'$HOME'"],
    ['${VH_OUTPUTS_DIR}', "'${VH_OUTPUTS_DIR}'"],
    ['héllo', "'héllo'"],
    ['日本', "'日本'"],
    ['a;rm -rf /', "'a;rm -rf /'"],
    ['back`tick`', "'back`tick`'"],
    ['new\nline', "'new\nline'"],
    ['*', "'*'"],
    ['~', "'~'"],
  ])('quotes %j as %s', (token, expected) => {
    expect(shellQuote(token)).toBe(expected);
  });
});
