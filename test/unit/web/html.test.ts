import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, jsonForScript, raw } from '../../../src/web/html.js';
import { renderDagSvg } from '../../../src/web/render-dag-svg.js';

describe('html', () => {
  it('escapes every interpolated value, including inside arrays', () => {
    const value = `<script>alert("x")</script>'&\``;
    const out = html`<p title="${value}">${[value, html`<b>${value}</b>`]}</p>`
      .value;
    expect(out).not.toContain('<script>');
    expect(out).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;&#96;',
    );
    expect(out).toContain('<b>&lt;script&gt;');
  });

  it('never lets a string produce markup characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        expect(html`${value}`.value).not.toMatch(/[<>"'`]/);
        expect(
          escapeHtml(value).replace(/&(amp|lt|gt|quot|#39|#96);/g, ''),
        ).not.toContain('&');
      }),
    );
  });

  it('renders nothing for null, undefined and false, and trusted markup as is', () => {
    expect(html`a${null}${undefined}${false}b${raw('<i>x</i>')}`.value).toBe(
      'ab<i>x</i>',
    );
  });

  it('keeps JSON in a script block from closing the element', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = jsonForScript(value).value;
        expect(text).not.toMatch(/[<>]/);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
    expect(jsonForScript({ a: '</script><script>x' }).value).not.toContain(
      '</script>',
    );
  });
});

describe('renderDagSvg', () => {
  it('puts a node one layer right of its furthest upstream node and escapes names', () => {
    const svg = renderDagSvg(
      [
        { name: 'a', upstream: [] },
        { name: 'b', upstream: ['a'] },
        { name: '<c>', upstream: ['a', 'b'] },
      ],
      [
        {
          name: 'b',
          step: 'b',
          index: 1,
          status: 'error',
          attempt: 1,
          generation: 1,
        },
      ],
    ).value;
    expect(svg).toContain('data-node="&lt;c&gt;"');
    expect(svg).not.toContain('<c>');
    const x = (name: string) =>
      Number(
        new RegExp(`data-node="${name}"[^>]*>.*?<rect x="(\\d+)"`).exec(
          svg,
        )?.[1],
      );
    expect(x('a')).toBeLessThan(x('b'));
    expect(x('b')).toBeLessThan(x('&lt;c&gt;'));
    expect(svg).toContain('data-node="b" data-status="error"');
    expect(svg.match(/<line /g)).toHaveLength(3);
  });
});
