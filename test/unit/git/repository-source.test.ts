import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GitError } from '../../../src/git/git-error.js';
import { assertObjectId, isZeroObjectId } from '../../../src/git/object-id.js';
import { checkRepoPath } from '../../../src/git/repo-path.js';
import { checkRepositorySource } from '../../../src/git/repository-source.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof GitError ? error.code : 'not a GitError';
  }
}

describe('checkRepositorySource', () => {
  it.each([
    ['https://github.com/acme/models.git', 'https', 'https://github.com'],
    ['http://127.0.0.1:8080/a.git', 'http', 'http://127.0.0.1:8080'],
    ['ssh://git@github.com/acme/models.git', 'ssh', null],
    ['file:///srv/git/models.git', 'file', null],
    ['/srv/git/models', 'file', null],
  ])('accepts %s', (url, protocol, origin) => {
    const checked = checkRepositorySource({ id: 'acme/models', url });

    expect(checked.protocol).toBe(protocol);
    expect(checked.origin).toBe(origin);
  });

  it.each([
    '--upload-pack=touch /tmp/x',
    '-u',
    'ext::sh -c touch% /tmp/x',
    'fd::17',
    'git@github.com:acme/models.git',
    'relative/dir',
    'https://x-access-token:ghs_x@github.com/a.git',
    'https://github.com/a.git\n-c',
    '',
  ])('refuses the url %j', (url) => {
    expect(codeOf(() => checkRepositorySource({ id: 'a', url }))).toBe(
      'INVALID_SOURCE',
    );
  });

  it('refuses a token for a transport that cannot carry it', () => {
    expect(
      codeOf(() =>
        checkRepositorySource({ id: 'a', url: '/srv/repo', token: 't' }),
      ),
    ).toBe('INVALID_SOURCE');
  });

  it('turns any id into one safe, distinct folder name', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.string({ minLength: 1, maxLength: 200 }),
        (first, second) => {
          // eslint-disable-next-line no-control-regex
          fc.pre(!/[\u0000-\u001f\u007f]/.test(first + second));
          const a = checkRepositorySource({ id: first, url: '/r' });
          const b = checkRepositorySource({ id: second, url: '/r' });

          expect(a.mirrorName).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*\.git$/);
          expect(a.mirrorName === b.mirrorName).toBe(first === second);
        },
      ),
    );
  });
});

describe('assertObjectId', () => {
  it.each([
    'a'.repeat(40),
    'b'.repeat(64),
    '0123456789abcdef'.repeat(4).slice(0, 40),
  ])('accepts %s', (sha) => {
    expect(assertObjectId(sha)).toBe(sha);
  });

  it.each([
    'A'.repeat(40),
    'a'.repeat(41),
    '0'.repeat(40),
    '--upload-pack=x',
    `${'a'.repeat(40)}\n`,
    'HEAD',
    null,
  ])('refuses %j', (sha) => {
    expect(codeOf(() => assertObjectId(sha))).toBe('INVALID_SHA');
  });

  it('knows the all-zeros id', () => {
    expect(isZeroObjectId('0'.repeat(40))).toBe(true);
    expect(isZeroObjectId('0'.repeat(39) + '1')).toBe(false);
  });
});

describe('checkRepoPath', () => {
  it.each(['kiln.yaml', 'config/kiln.yaml', '.kiln/a b.yaml', '-x.yaml'])(
    'accepts %j',
    (path) => {
      expect(checkRepoPath(path)).toBe(path);
    },
  );

  it.each(['', '/abs', 'a/', '../a', 'a/./b', 'a\u0000b', 'x'.repeat(5000)])(
    'refuses %j',
    (path) => {
      expect(codeOf(() => checkRepoPath(path))).toBe('INVALID_PATH');
    },
  );
});
