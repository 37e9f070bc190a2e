import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { GitError } from './git-error.js';

/**
 * Where a repository comes from. `id` names its mirror folder (for example
 * `github.com/acme/models`); it is sanitised, never used as a path as is.
 */
export interface RepositorySource {
  id: string;
  /** https, http, ssh or file URL, or an absolute local path. */
  url: string;
  /** https token; travels in the environment, never in argv, URLs or logs. */
  token?: string;
}

/** The transport a source uses; decides `GIT_ALLOW_PROTOCOL`. */
export type SourceProtocol = 'https' | 'http' | 'ssh' | 'file';

export interface CheckedSource {
  id: string;
  url: string;
  token: string | undefined;
  protocol: SourceProtocol;
  /** Single path component for the mirror folder: `<slug>-<hash>.git`. */
  mirrorName: string;
  /** `scheme://host` of http(s) sources; scopes the token header. */
  origin: string | null;
}

const maxIdLength = 512;
const maxUrlLength = 4096;
// Control characters (newline, NUL, escape) have no place in a URL or id and
// are how values break out of logs and config files.
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;
const schemes: Record<string, SourceProtocol> = {
  'https:': 'https',
  'http:': 'http',
  'ssh:': 'ssh',
  'file:': 'file',
};

function refuse(message: string): never {
  throw new GitError('INVALID_SOURCE', message);
}

function toMirrorName(id: string): string {
  const slug = id
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 80);
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 16);
  return `${slug || 'repo'}-${hash}.git`;
}

/**
 * Checks a source before any git call: a URL starting with `-` could be read
 * as an option, `ext::` runs commands, and credentials in the URL end up in
 * logs and `.git/config`.
 */
export function checkRepositorySource(source: RepositorySource): CheckedSource {
  const { id, url, token } = source;
  if (typeof id !== 'string' || id.length === 0 || id.length > maxIdLength) {
    refuse(`repository id must be 1-${maxIdLength} characters`);
  }
  if (controlCharacters.test(id)) {
    refuse('repository id must not contain control characters');
  }
  if (
    typeof url !== 'string' ||
    url.length === 0 ||
    url.length > maxUrlLength
  ) {
    refuse(`repository url must be 1-${maxUrlLength} characters`);
  }
  if (controlCharacters.test(url) || url.startsWith('-')) {
    refuse(
      `repository url ${JSON.stringify(url.slice(0, 80))} is not a URL: use https://host/owner/repo.git or an absolute path`,
    );
  }
  if (token !== undefined && (typeof token !== 'string' || token === '')) {
    refuse('repository token must be a non-empty string when given');
  }
  if (token !== undefined && controlCharacters.test(token)) {
    refuse('repository token must not contain control characters');
  }
  const mirrorName = toMirrorName(id);
  if (isAbsolute(url)) {
    if (token !== undefined) refuse('a token is only used with https urls');
    return { id, url, token, protocol: 'file', mirrorName, origin: null };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse(
      `repository url ${JSON.stringify(url.slice(0, 80))} is not a URL: use https://host/owner/repo.git or an absolute path`,
    );
  }
  const protocol = schemes[parsed.protocol];
  if (protocol === undefined) {
    refuse(
      `repository url scheme ${JSON.stringify(parsed.protocol)} is not allowed: use https, http, ssh or file`,
    );
  }
  if (parsed.password !== '') {
    refuse('put credentials in the source token, not in the url');
  }
  if (token !== undefined && protocol !== 'https' && protocol !== 'http') {
    refuse('a token is only used with https urls');
  }
  const origin =
    protocol === 'https' || protocol === 'http' ? parsed.origin : null;
  return { id, url, token, protocol, mirrorName, origin };
}
