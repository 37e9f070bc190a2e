import type { CheckedSource } from './repository-source.js';

/**
 * Where the git adapter gets tokens for https fetches (the App's
 * installation tokens, or KILN_GITHUB_TOKEN). Injected into the
 * `GitMaterialiser` by the composition root, so callers pass plain
 * `{ id, url }` sources and never handle a token.
 *
 * Contract:
 * - `tokenFor` is called before every remote git command (fetch,
 *   ls-remote), possibly concurrently for different repositories; it caches
 *   and answers a token that stays valid for the length of a fetch.
 * - It answers undefined for a source it has no token for (another host, a
 *   repository the App is not installed on): the command then runs without
 *   one. It decides by the source's origin, so a token only ever goes to the
 *   server it was made for.
 * - `refresh: true` comes after the server refused the last token (revoked,
 *   expired early): skip any cache and get a new one. Asked at most once per
 *   command.
 * - Failures to get a token (GitHub's API down) reject; the adapter reports
 *   them as a retryable FETCH_FAILED.
 * - `describeDenied` is the whole message when the server refuses access
 *   even so, e.g. "kiln has no access to acme/models: install the App on
 *   it". It must not contain a token.
 */
export interface GitCredentials {
  tokenFor(
    source: CheckedSource,
    options: { refresh: boolean },
  ): Promise<string | undefined>;
  describeDenied(source: CheckedSource): string;
}
