/**
 * The stand-in's git endpoints: `/<owner>/<repo>.git/info/refs` and
 * `/git-upload-pack` served by the real `git http-backend`, with GitHub's
 * access rules. A private repository needs HTTP basic credentials whose
 * password is a listed token or an unexpired installation token of the
 * installation that holds the repository (and, when the token was scoped
 * to repositories, one of them, with `contents`). Like GitHub: no or bad
 * credentials → 401 asking for them; a token that cannot see the
 * repository → 404 "Repository not found".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import { runGitHttpBackend } from './git-http-backend.js';
import type { GithubState } from './github-stand-in-state.js';

export interface GitStandInOptions {
  /** Bare repositories served, by `owner/name`. */
  repositories: Record<string, string>;
  /** Readable without credentials; all others are private. */
  publicRepositories?: string[];
  /** Git requests for these repositories answer 301 to `<url><rest of path>`. */
  redirects?: Record<string, string>;
}

export interface GitRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  repository: string;
  /** The Authorization header as received (tests check where tokens go). */
  authorization?: string;
  /** The token the credentials carried, if any. */
  token?: string;
  status: number;
  time: number;
}

export interface GitEndpoint {
  requests: GitRequest[];
  /** The repository a path addresses, or null when it is not a git path. */
  repositoryOf(path: string): string | null;
  handle(incoming: IncomingMessage, response: ServerResponse): Promise<void>;
}

const gitPath =
  /^\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?(\/info\/refs|\/git-upload-pack|\/git-receive-pack)$/;

export function createGitEndpoint(
  options: GitStandInOptions,
  context: {
    tokens: string[];
    installations: Record<string, number>;
    minted: GithubState['minted'];
  },
): GitEndpoint {
  const requests: GitRequest[] = [];

  function repositoryOf(path: string): string | null {
    const match = gitPath.exec(path);
    if (!match) return null;
    const name = `${match[1]}/${match[2]}`;
    const known =
      Object.hasOwn(options.repositories, name) ||
      Object.hasOwn(options.redirects ?? {}, name);
    return known ? name : null;
  }

  function tokenOf(header: string | undefined): string | undefined {
    const [scheme = '', value = ''] = (header ?? '').split(' ');
    if (scheme.toLowerCase() !== 'basic') return undefined;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }

  /** 200 when allowed, else the status GitHub answers. */
  function access(repository: string, token: string | undefined): number {
    if (options.publicRepositories?.includes(repository)) return 200;
    if (token === undefined) return 401;
    if (context.tokens.includes(token)) return 200;
    const minted = context.minted.find((item) => item.token === token);
    if (!minted || minted.expiresAt <= Date.now()) return 401;
    if (context.installations[repository] !== minted.installationId) return 404;
    if (minted.repositories && !minted.repositories.includes(repository))
      return 404;
    if (minted.permissions && !minted.permissions.contents) return 404;
    return 200;
  }

  async function handle(
    incoming: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const url = new URL(incoming.url ?? '/', 'http://stand-in');
    const repository = repositoryOf(url.pathname) ?? '';
    const authorization = incoming.headers.authorization;
    const token = tokenOf(authorization);
    const body = await readAll(incoming);
    const record: GitRequest = {
      method: incoming.method ?? 'GET',
      url: `${url.pathname}${url.search}`,
      repository,
      authorization,
      token,
      status: 0,
      time: Date.now(),
    };
    requests.push(record);
    const send = (status: number, text: string, headers = {}) => {
      record.status = status;
      response.writeHead(status, { 'content-type': 'text/plain', ...headers });
      response.end(text);
    };
    const redirect = options.redirects?.[repository];
    if (redirect !== undefined) {
      const rest = url.pathname.replace(/^\/[^/]+\/[^/]+?(?:\.git)?(?=\/)/, '');
      return send(301, '', { location: `${redirect}${rest}${url.search}` });
    }
    const endpointOf = gitPath.exec(url.pathname)?.[3];
    const service =
      endpointOf === '/info/refs'
        ? url.searchParams.get('service')
        : endpointOf?.slice(1);
    if (service !== 'git-upload-pack') {
      return send(403, 'kiln never pushes: only git-upload-pack is served');
    }
    const allowed = access(repository, token);
    if (allowed === 401) {
      return send(401, 'Invalid username or token.', {
        'www-authenticate': 'Basic realm="GitHub"',
      });
    }
    if (allowed === 404) return send(404, 'Repository not found.');
    const dir = options.repositories[repository] ?? '';
    record.status = await runGitHttpBackend({
      incoming,
      response,
      body,
      projectRoot: dirname(dir),
      pathInfo: `/${basename(dir)}${endpointOf ?? ''}`,
      query: url.search.replace(/^\?/, ''),
    });
  }

  return { requests, repositoryOf, handle };
}

async function readAll(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
