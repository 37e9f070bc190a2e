/**
 * Where GitHub serves git: `https://github.com` for the public API (or no
 * KILN_GITHUB_API_URL), else the origin of KILN_GITHUB_API_URL — GitHub
 * Enterprise Server has its API under `/api/v3` and git on the same host.
 * kiln sends its GitHub credentials to git on this origin and nowhere else.
 */
export function githubGitOrigin(apiUrl: string | undefined): string {
  if (apiUrl === undefined) return 'https://github.com';
  const url = new URL(apiUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com';
  return url.origin;
}

/**
 * `owner/name` when `url` is a repository on `origin`
 * (`<origin>/owner/name` or `<origin>/owner/name.git`), else null.
 */
export function githubRepositoryOf(url: string, origin: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (
    parsed.origin !== origin ||
    parsed.username !== '' ||
    parsed.search !== '' ||
    parsed.hash !== ''
  )
    return null;
  const match =
    /^\/([A-Za-z0-9_.-]{1,100})\/([A-Za-z0-9_.-]{1,100}?)(?:\.git)?\/?$/.exec(
      parsed.pathname,
    );
  if (!match?.[1] || !match[2]) return null;
  return `${match[1]}/${match[2]}`;
}
