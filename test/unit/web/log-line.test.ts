import { describe, expect, it } from 'vitest';
import {
  collapseCarriageReturns,
  groupMarker,
  parseAnsi,
  plainText,
  segmentPresentation,
} from '../../../src/web/client/log-line.js';

describe('log lines as a terminal shows them', () => {
  it.each([
    ['plain', 'plain'],
    ['  0%|\r 50%|#####\r100%|##########', '100%|##########'],
    ['done\r', 'done'],
    ['a\r\r', 'a'],
  ])('collapses %j to what the terminal ends on', (text, shown) => {
    expect(collapseCarriageReturns(text)).toBe(shown);
  });

  it('reads SGR colours and styles into segments and drops other escapes', () => {
    const segments = parseAnsi(
      '\x1b[1;31merror\x1b[0m: \x1b[38;5;196mred\x1b[39m \x1b[48;2;0;128;255mbg\x1b[m\x1b[2K done',
    );

    expect(segments).toEqual([
      { text: 'error', bold: true, fg: 1 },
      { text: ': ' },
      { text: 'red', fg: '#ff0000' },
      { text: ' ' },
      { text: 'bg', bg: '#0080ff' },
      { text: ' done' },
    ]);
    expect(
      plainText('\x1b[32mok\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07'),
    ).toBe('ok link');
  });

  it('turns bright colours into the upper palette and styles into classes', () => {
    const [segment] = parseAnsi('\x1b[92;4mgreen\x1b[0m');

    expect(segment).toEqual({ text: 'green', fg: 10, underline: true });
    expect(segmentPresentation(segment!)).toEqual({
      className: 'ansi-fg-10 ansi-underline',
      style: '',
    });
    expect(segmentPresentation({ text: 'x', fg: '#112233', bg: 3 })).toEqual({
      className: 'ansi-bg-3',
      style: 'color:#112233;',
    });
  });

  it.each([
    [
      '::group::Install dependencies',
      { kind: 'start', title: 'Install dependencies' },
    ],
    ['##[group]Build', { kind: 'start', title: 'Build' }],
    ['::endgroup::', { kind: 'end' }],
    ['##[endgroup]', { kind: 'end' }],
    ['echo ::group::', null],
  ])('reads %j as a group marker', (text, marker) => {
    expect(groupMarker(text)).toEqual(marker);
  });
});
