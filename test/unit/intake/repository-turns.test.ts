import { describe, expect, it } from 'vitest';
import {
  createRepositoryTurns,
  repositoryOfPayload,
} from '../../../src/intake/repository-turns.js';

describe('repository turns of the intake worker', () => {
  it('grants a repository its share, and again once a turn is given back', () => {
    const turns = createRepositoryTurns(1);

    expect(turns.take('acme/slow')).toBe(true);
    expect(turns.take('acme/slow')).toBe(false);
    expect(turns.take('acme/other')).toBe(true);
    turns.give('acme/slow');
    expect(turns.take('acme/slow')).toBe(true);
  });

  it('counts up to the share given', () => {
    const turns = createRepositoryTurns(2);

    expect([1, 2, 3].map(() => turns.take('acme/busy'))).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('always grants deliveries without a repository', () => {
    const turns = createRepositoryTurns(1);

    expect(turns.take(null)).toBe(true);
    expect(turns.take(null)).toBe(true);
  });

  it.each([
    ['{"repository":{"full_name":"Acme/Models"}}', 'acme/models'],
    ['{"installation":{"id":1}}', null],
    ['{"repository":{"full_name":""}}', null],
    ['{"repository":null}', null],
    ['null', null],
    ['not json', null],
  ])('reads the repository of %s as %j', (payload, repository) => {
    expect(repositoryOfPayload(payload)).toBe(repository);
  });
});
