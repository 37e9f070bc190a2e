import { describe, expect, it } from 'vitest';
import { readCookie } from '../../../src/http/auth/create-auth.js';
import { contentDisposition } from '../../../src/server/routes/api-executions.js';
import { readLaunchRequest } from '../../../src/server/routes/api-launch.js';

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the exact UTF-8 name, never a header break', () => {
    expect(contentDisposition('out/model.pkl')).toBe(
      `attachment; filename="model.pkl"; filename*=UTF-8''model.pkl`,
    );
    const hostile = contentDisposition('a/"x\r\nSet-Cookie: y=1;.txt');
    expect(hostile).not.toMatch(/[\r\n]/);
    expect(hostile.split('"').length).toBe(3);
    expect(contentDisposition('d/ä b(1).csv')).toBe(
      `attachment; filename="_ b_1_.csv"; filename*=UTF-8''%C3%A4%20b%281%29.csv`,
    );
  });
});

describe('readCookie', () => {
  it('reads one cookie and ignores malformed ones', () => {
    expect(
      readCookie('a=1; kiln_session=kiln_x%2By; b=2', 'kiln_session'),
    ).toBe('kiln_x+y');
    expect(readCookie('kiln_session=%E0%A4%A', 'kiln_session')).toBeUndefined();
    expect(readCookie(undefined, 'kiln_session')).toBeUndefined();
    expect(readCookie('x'.repeat(10_000), 'kiln_session')).toBeUndefined();
  });
});

describe('readLaunchRequest', () => {
  it('accepts a ref or a commit, not both, and refuses option-like refs', () => {
    expect(
      readLaunchRequest({ repository: 'a/b', ref: 'main', name: 'train' }),
    ).toEqual({
      repository: 'a/b',
      ref: 'main',
      name: 'train',
      parameters: {},
    });
    for (const body of [
      { repository: 'a/b', ref: 'main', commit: 'a'.repeat(40), name: 't' },
      { repository: 'a/b', ref: '-x', name: 't' },
      { repository: 'a/b', ref: 'a..b', name: 't' },
      { repository: 'a/b', commit: 'A'.repeat(40), name: 't' },
      { repository: 'a b', ref: 'main', name: 't' },
      { repository: 'a/b', ref: 'main', name: 't', parameters: [1] },
      null,
      'text',
    ]) {
      expect(() => readLaunchRequest(body)).toThrow();
    }
    expect(() =>
      readLaunchRequest({
        repository: 'a/b',
        ref: 'main',
        name: 't',
        parameters: { x: { y: 1 } },
      }),
    ).toThrow(/string, number or boolean/);
  });
});
