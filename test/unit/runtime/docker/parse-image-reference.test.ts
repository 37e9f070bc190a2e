import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImageReference } from '../../../../src/runtime/docker/parse-image-reference.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference', () => {
  it.each([
    {
      text: 'alpine',
      reference: {
        registry: 'docker.io',
        path: 'library/alpine',
        tag: null,
        digest: null,
      },
    },
    {
      text: 'kiln-test/busybox:1',
      reference: {
        registry: 'docker.io',
        path: 'kiln-test/busybox',
        tag: '1',
        digest: null,
      },
    },
    {
      text: 'ghcr.io/org/team/image:v1.2-rc_3',
      reference: {
        registry: 'ghcr.io',
        path: 'org/team/image',
        tag: 'v1.2-rc_3',
        digest: null,
      },
    },
    {
      text: 'localhost:5000/img',
      reference: {
        registry: 'localhost:5000',
        path: 'img',
        tag: null,
        digest: null,
      },
    },
    {
      text: `python:3.12@${DIGEST}`,
      reference: {
        registry: 'docker.io',
        path: 'library/python',
        tag: '3.12',
        digest: DIGEST,
      },
    },
    {
      text: `registry.example.com:443/a__b/c-d.e@${DIGEST}`,
      reference: {
        registry: 'registry.example.com:443',
        path: 'a__b/c-d.e',
        tag: null,
        digest: DIGEST,
      },
    },
  ])('reads $text', ({ text, reference }) => {
    expect(parseImageReference(text)).toEqual({ ok: true, reference });
  });

  it.each([
    ['--privileged', 'starts with "-"'],
    ['-alpine', 'starts with "-"'],
    ['alpine --net=host', 'whitespace'],
    ['alpine\n', 'whitespace'],
    ['alpine\u0000', 'control'],
    ['', 'empty'],
    ['Alpine', 'name component'],
    ['alpine:', 'tag'],
    ['alpine:-x', 'tag'],
    ['alpine@sha256:xyz', 'digest'],
    ['a//b', 'name component'],
    ['bad_host!/x', 'name component'],
    ['-bad.example.com/x', 'starts with "-"'],
    ['ex-.com/x', 'registry host'],
    ['x'.repeat(600), 'longer than'],
  ])('refuses %j', (text, problem) => {
    const result = parseImageReference(text);

    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.problem).toContain(problem);
  });

  it('never throws and never accepts a leading "-" or whitespace', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const result = parseImageReference(text);
        if (result.ok) {
          expect(text.startsWith('-')).toBe(false);
          expect(/\s/.test(text)).toBe(false);
        }
      }),
    );
  });

  it('stays fast on long hostile input', () => {
    const hostile = `${'a-'.repeat(250)}!`;

    const result = parseImageReference(hostile);

    expect(result.ok).toBe(false);
  });
});
