import { describe, expect, it } from 'vitest';
import {
  decideTrust,
  type TrustFacts,
} from '../../../src/orchestrator/decide-trust.js';

describe('decideTrust: one decision for every way a run starts', () => {
  it.each<[string, TrustFacts, boolean]>([
    ['a push', { how: 'push' }, true],
    [
      'a pull request from a branch',
      { how: 'pull_request', fork: false },
      true,
    ],
    [
      'a pull request from a fork',
      {
        how: 'pull_request',
        fork: true,
        author: 'mallory',
        headRepository: 'mallory/models',
      },
      false,
    ],
    [
      'a re-run of a trusted run',
      { how: 'rerun', previousTrusted: true },
      true,
    ],
    ['a re-run of a fork run', { how: 'rerun', previousTrusted: false }, false],
    ['a launch by branch', { how: 'launch' }, true],
    [
      'a launch by a SHA on a branch',
      { how: 'launch', onBranchOrTag: true },
      true,
    ],
    [
      'a launch by a SHA on no branch (a fork commit)',
      { how: 'launch', onBranchOrTag: false },
      false,
    ],
    ['a schedule', { how: 'schedule' }, true],
  ])('%s: trusted %s', (_name, facts, trusted) => {
    const decision = decideTrust(facts);

    expect(decision.trusted).toBe(trusted);
    // Untrusted runs always wait for a person; trusted ones never do.
    expect(decision.hold !== undefined).toBe(!trusted);
  });

  it('says who and where in the reason of a fork pull request', () => {
    const decision = decideTrust({
      how: 'pull_request',
      fork: true,
      author: 'mallory',
      headRepository: 'mallory/models',
    });

    expect(decision.hold).toBe(
      'waiting for approval: pull request from fork mallory/models by @mallory — a collaborator with write access must approve it',
    );
  });
});
