import { describe, expect, it } from 'vitest';
import type { Trigger } from '../../../src/config/config-model.js';
import { matchGlob } from '../../../src/config/match-glob.js';
import {
  matchTriggers,
  needsChangedPaths,
} from '../../../src/intake/match-triggers.js';

function trigger(overrides: Partial<Trigger>): Trigger {
  return {
    name: 't',
    on: ['push', 'pull_request'],
    branches: [],
    paths: [],
    run: 'train',
    parameters: {},
    cancelSuperseded: true,
    ...overrides,
  };
}

describe('matchGlob', () => {
  it.each([
    ['main', 'main', true],
    ['main', 'mainline', false],
    ['release/*', 'release/1.0', true],
    ['release/*', 'release/1.0/hotfix', false],
    ['release/**', 'release/1.0/hotfix', true],
    ['**', 'feature/a/b', true],
    ['src/**/*.py', 'src/x.py', true],
    ['src/**/*.py', 'src/a/b/x.py', true],
    ['src/**/*.py', 'srcx.py', false],
    ['*.md', 'docs/readme.md', false],
    ['v?', 'v1', true],
    ['v?', 'v10', false],
    ['$(touch /tmp/p)', '$(touch /tmp/p)', true],
  ])('%s against %s → %s', (glob, text, expected) => {
    expect(matchGlob(glob, text)).toBe(expected);
  });

  it('stays linear-ish on hostile input (no backtracking blow-up)', () => {
    const glob = `${'*a'.repeat(100)}b`;
    const text = 'a'.repeat(4000);
    expect(matchGlob(glob, text)).toBe(false);
  });
});

describe('matchTriggers', () => {
  const base = { event: 'push' as const, refType: 'branch' as const };

  it('filters by event, branch and path', () => {
    const triggers = [
      trigger({ on: ['pull_request'] }),
      trigger({ branches: ['main'] }),
      trigger({ branches: ['release/*'] }),
      trigger({ branches: ['main'], paths: ['src/**'] }),
      trigger({ branches: ['main'], paths: ['docs/**'] }),
    ];
    const matched = matchTriggers({
      ...base,
      triggers,
      refName: 'main',
      changedPaths: ['src/model.py'],
    }).map((match) => match.index);
    expect(matched).toEqual([1, 3]);
  });

  it('treats unknown changed paths as matching path filters', () => {
    const matched = matchTriggers({
      ...base,
      triggers: [trigger({ paths: ['docs/**'] })],
      refName: 'main',
      changedPaths: null,
    });
    expect(matched).toHaveLength(1);
  });

  it('matches tags only through refs/tags/ globs', () => {
    const triggers = [
      trigger({}),
      trigger({ branches: ['**'] }),
      trigger({ branches: ['refs/tags/v*'] }),
    ];
    const matched = matchTriggers({
      triggers,
      event: 'push',
      refType: 'tag',
      refName: 'v1.2',
      changedPaths: [],
    }).map((match) => match.index);
    expect(matched).toEqual([2]);
  });

  it('knows when changed paths are needed', () => {
    expect(needsChangedPaths([trigger({})], 'push')).toBe(false);
    expect(needsChangedPaths([trigger({ paths: ['a'] })], 'push')).toBe(true);
    expect(
      needsChangedPaths(
        [trigger({ paths: ['a'], on: ['pull_request'] })],
        'push',
      ),
    ).toBe(false);
  });
});
