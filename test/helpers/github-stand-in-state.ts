/**
 * The in-memory GitHub the stand-in serves: commit statuses, issue
 * comments (paginated with Link headers), check runs, installation tokens
 * and installations, with GitHub's documented limits (422s).
 */
import type { GithubStandInOptions } from './github-stand-in.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The matched OpenAPI path template (`/repos/{owner}/{repo}/…`). */
  route?: string;
  time: number;
  status?: number;
  invalid?: string;
}

export interface StoredStatus {
  repository: string;
  sha: string;
  state: string;
  context: string;
  description?: string;
  target_url?: string;
}

export interface StoredComment {
  id: number;
  repository: string;
  issue: number;
  body: string;
  edits: number;
}

export interface StoredCheckRun {
  id: number;
  repository: string;
  head_sha: string;
  name: string;
  status: string;
  conclusion?: string;
  output?: { title?: string; summary?: string; annotations?: unknown[] };
  updates: number;
}

export interface MintedToken {
  token: string;
  installationId: number;
  expiresAt: number;
  /** `owner/name`s the token was scoped to; all of the installation when absent. */
  repositories?: string[];
  /** The permissions asked for; all of the App's when absent. */
  permissions?: Record<string, string>;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GithubState {
  statuses: StoredStatus[];
  comments: StoredComment[];
  checkRuns: StoredCheckRun[];
  minted: MintedToken[];
  /** `undefined` when the stand-in does not implement the operation. */
  route(template: string, request: RecordedRequest): RouteResult | undefined;
}

export function createGithubState(
  options: GithubStandInOptions,
  baseUrl: () => string,
): GithubState {
  const statuses: StoredStatus[] = [];
  const comments: StoredComment[] = [];
  const checkRuns: StoredCheckRun[] = [];
  const minted: GithubState['minted'] = [];
  let nextId = 1000;

  function route(
    template: string,
    request: RecordedRequest,
  ): RouteResult | undefined {
    const parts = request.path.split('/').map(decodeURIComponent);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const repository = `${parts[2]}/${parts[3]}`;
    switch (`${request.method} ${template}`) {
      case 'POST /repos/{owner}/{repo}/statuses/{sha}': {
        const description = body.description as string | undefined;
        if (description !== undefined && description.length > 140)
          return unprocessable(
            'description is too long (maximum is 140 characters)',
          );
        const context = (body.context as string | undefined) ?? 'default';
        const sha = parts[5] ?? '';
        if (
          statuses.filter(
            (item) =>
              item.sha === sha &&
              item.context === context &&
              item.repository === repository,
          ).length >= 1000
        )
          return unprocessable(
            'This SHA and context has reached the maximum number of statuses.',
          );
        const status: StoredStatus = {
          repository,
          sha,
          state: String(body.state),
          context,
          description,
          target_url: body.target_url as string | undefined,
        };
        statuses.push(status);
        return { status: 201, body: { id: nextId++, ...status } };
      }
      case 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const issue = Number(parts[5]);
        const all = comments.filter(
          (item) => item.repository === repository && item.issue === issue,
        );
        const perPage = Math.min(
          100,
          Number(request.query.per_page ?? 30) || 30,
        );
        const page = Math.max(1, Number(request.query.page ?? 1) || 1);
        const slice = all.slice((page - 1) * perPage, page * perPage);
        const last = Math.max(1, Math.ceil(all.length / perPage));
        const links: string[] = [];
        const pageUrl = (n: number) =>
          `${baseUrl()}${request.path}?per_page=${perPage}&page=${n}`;
        if (page < last)
          links.push(
            `<${pageUrl(page + 1)}>; rel="next"`,
            `<${pageUrl(last)}>; rel="last"`,
          );
        if (page > 1)
          links.push(
            `<${pageUrl(1)}>; rel="first"`,
            `<${pageUrl(page - 1)}>; rel="prev"`,
          );
        return {
          status: 200,
          body: slice.map(commentJson),
          headers: links.length > 0 ? { link: links.join(', ') } : {},
        };
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const text = String(body.body);
        if (text.length > 65_536)
          return unprocessable(
            'Body is too long (maximum is 65536 characters)',
          );
        const comment: StoredComment = {
          id: nextId++,
          repository,
          issue: Number(parts[5]),
          body: text,
          edits: 0,
        };
        comments.push(comment);
        return { status: 201, body: commentJson(comment) };
      }
      case 'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}': {
        const comment = comments.find(
          (item) =>
            item.id === Number(parts[6]) && item.repository === repository,
        );
        if (!comment) return { status: 404, body: { message: 'Not Found' } };
        const text = String(body.body);
        if (text.length > 65_536)
          return unprocessable(
            'Body is too long (maximum is 65536 characters)',
          );
        comment.body = text;
        comment.edits += 1;
        return { status: 200, body: commentJson(comment) };
      }
      case 'POST /repos/{owner}/{repo}/check-runs':
      case 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}': {
        const output = body.output as StoredCheckRun['output'];
        if ((output?.annotations?.length ?? 0) > 50)
          return unprocessable('at most 50 annotations per request');
        if ((output?.summary?.length ?? 0) > 65_535)
          return unprocessable('output.summary is too long');
        let run: StoredCheckRun | undefined;
        if (request.method === 'POST') {
          run = {
            id: nextId++,
            repository,
            head_sha: String(body.head_sha),
            name: String(body.name),
            status: 'queued',
            updates: 0,
          };
          checkRuns.push(run);
        } else {
          run = checkRuns.find((item) => item.id === Number(parts[5]));
          if (!run) return { status: 404, body: { message: 'Not Found' } };
          run.updates += 1;
        }
        run.status = String(
          body.status ?? (body.conclusion ? 'completed' : run.status),
        );
        if (body.conclusion) run.conclusion = String(body.conclusion);
        if (output) run.output = output;
        return {
          status: request.method === 'POST' ? 201 : 200,
          body: { ...run },
        };
      }
      case 'POST /app/installations/{installation_id}/access_tokens': {
        const installationId = Number(parts[3]);
        const installed = Object.entries(options.installations ?? {})
          .filter(([, id]) => id === installationId)
          .map(([name]) => name);
        if (installed.length === 0)
          return { status: 404, body: { message: 'Not Found' } };
        const names = body.repositories as string[] | undefined;
        const repositories = names?.map(
          (name) => installed.find((full) => full.split('/')[1] === name) ?? '',
        );
        if (repositories?.includes(''))
          return unprocessable(
            'There is at least one repository that does not exist or is not accessible to the parent installation.',
          );
        const permissions = body.permissions as
          Record<string, string> | undefined;
        const token = `ghs_${nextId++}${Math.random().toString(36).slice(2)}`;
        const expiresAt = Date.now() + (options.tokenLifetimeMs ?? 3_600_000);
        minted.push({
          token,
          installationId,
          expiresAt,
          repositories,
          permissions,
        });
        return {
          status: 201,
          body: {
            token,
            expires_at: new Date(expiresAt)
              .toISOString()
              .replace(/\.\d{3}Z$/, 'Z'),
            permissions: permissions ?? {
              statuses: 'write',
              checks: 'write',
              pull_requests: 'write',
              contents: 'read',
              metadata: 'read',
            },
            repository_selection: repositories ? 'selected' : 'all',
            ...(repositories
              ? {
                  repositories: repositories.map((full, index) => ({
                    id: 5000 + index,
                    name: full.split('/')[1],
                    full_name: full,
                  })),
                }
              : {}),
          },
        };
      }
      case 'GET /repos/{owner}/{repo}/collaborators/{username}/permission': {
        const permission =
          options.collaborators?.[repository]?.[parts[5] ?? ''];
        if (permission === undefined)
          return { status: 404, body: { message: 'Not Found' } };
        return {
          status: 200,
          body: {
            permission,
            role_name: permission,
            user: { login: parts[5], id: 1, type: 'User' },
          },
        };
      }
      case 'GET /repos/{owner}/{repo}/installation': {
        const id = options.installations?.[repository];
        if (id === undefined)
          return { status: 404, body: { message: 'Not Found' } };
        return {
          status: 200,
          body: {
            id,
            app_id: Number(options.app?.id ?? 0),
            account: { login: parts[2] },
          },
        };
      }
    }
    return undefined;
  }

  function commentJson(comment: StoredComment) {
    return {
      id: comment.id,
      body: comment.body,
      html_url: `https://github.test/${comment.repository}/pull/${comment.issue}#issuecomment-${comment.id}`,
      user: { login: 'kiln[bot]', type: 'Bot' },
    };
  }

  return { statuses, comments, checkRuns, minted, route };
}

function unprocessable(message: string) {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [{ message }],
      documentation_url: 'https://docs.github.com/rest',
    },
  };
}
