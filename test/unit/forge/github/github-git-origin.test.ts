import { describe, expect, it } from 'vitest';
import {
  githubGitOrigin,
  githubRepositoryOf,
} from '../../../../src/forge/github/github-git-origin.js';

describe('githubGitOrigin', () => {
  it.each([
    [undefined, 'https://github.com'],
    ['https://api.github.com', 'https://github.com'],
    ['https://api.github.com/', 'https://github.com'],
    ['https://github.example.com/api/v3', 'https://github.example.com'],
    [
      'https://GitHub.Example.com:8443/api/v3/',
      'https://github.example.com:8443',
    ],
    ['http://127.0.0.1:4000/api/v3', 'http://127.0.0.1:4000'],
  ])('%s → %s', (apiUrl, origin) => {
    expect(githubGitOrigin(apiUrl)).toBe(origin);
  });
});

describe('githubRepositoryOf', () => {
  const origin = 'https://github.com';

  it.each([
    ['https://github.com/acme/models.git', 'acme/models'],
    ['https://github.com/acme/models', 'acme/models'],
    ['https://github.com/acme/models/', 'acme/models'],
    ['https://github.com/acme/my.repo.git', 'acme/my.repo'],
  ])('%s is %s', (url, repository) => {
    expect(githubRepositoryOf(url, origin)).toBe(repository);
  });

  it.each([
    'https://github.com.evil.example/acme/models.git',
    'https://evil.example/github.com/acme/models.git',
    'http://github.com/acme/models.git',
    'https://github.com:444/acme/models.git',
    'https://user@github.com/acme/models.git',
    'https://github.com/acme/models.git?x=1',
    'https://github.com/acme/models/extra.git',
    'https://github.com/acme',
    '/srv/git/acme/models.git',
    'not a url',
  ])('%s is not a repository on github.com', (url) => {
    expect(githubRepositoryOf(url, origin)).toBeNull();
  });
});
