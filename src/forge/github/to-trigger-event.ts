/**
 * Turns a verified GitHub webhook payload into what kiln acts on. Only the
 * fields kiln needs are read; everything else in the payload is ignored.
 * Branch names, titles and messages stay data (never parsed, never run).
 * SHAs are checked to be 40 lowercase hex characters here, before anything
 * can hand them to git.
 */
import type { EmitterWebhookEvent } from '@octokit/webhooks';
import { z } from 'zod';
import type { RepositoryRef } from './repository-ref.js';
import { toRerunEvent, type RerunTriggerEvent } from './to-rerun-event.js';

export type { RerunTriggerEvent } from './to-rerun-event.js';

export type { RepositoryRef } from './repository-ref.js';

export interface PushTriggerEvent {
  kind: 'push';
  repository: RepositoryRef;
  /** Full ref, e.g. `refs/heads/main`. */
  ref: string;
  refType: 'branch' | 'tag';
  /** Branch or tag name without the `refs/...` prefix. */
  refName: string;
  /** Null when the ref was deleted. */
  sha: string | null;
  /** Null when the ref is new (all zeros in the payload). */
  before: string | null;
  deleted: boolean;
  sender?: string;
  installationId?: number;
  /** Push time (ms), for ordering deliveries that arrive out of order. */
  pushedAt?: number;
}

export interface PullRequestTriggerEvent {
  kind: 'pull_request';
  action: 'opened' | 'synchronize' | 'reopened' | 'closed';
  /** The base repository: runs belong to it and fetch from it. */
  repository: RepositoryRef;
  number: number;
  /** `refs/pull/<number>/head`: the ref runs of this PR are grouped by. */
  ref: string;
  sha: string;
  baseSha: string;
  baseBranch: string;
  headBranch: string;
  /** Head repository differs from the base repository. */
  fork: boolean;
  headRepository: string;
  /** Authenticated GitHub logins, never commit author names. */
  sender?: string;
  author?: string;
  installationId?: number;
  /** `pull_request.updated_at` (ms), for ordering. */
  updatedAt?: number;
}

export interface InstallationTriggerEvent {
  kind: 'installation';
  action: string;
  installationId?: number;
  account?: string;
  sender?: string;
}

export type GitHubTriggerEvent =
  | PushTriggerEvent
  | PullRequestTriggerEvent
  | InstallationTriggerEvent
  | RerunTriggerEvent;

export type ToTriggerEventResult =
  { event: GitHubTriggerEvent } | { ignored: string } | { rejected: string };

const sha40 = /^[0-9a-f]{40}$/;
const zeroSha = /^0{40}$/;
const fullName = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;
const maxRefLength = 1024;

const Login = z.looseObject({ login: z.string().max(100) });
const Repository = z.looseObject({
  id: z.number().optional(),
  full_name: z.string().regex(fullName),
  clone_url: z.string().min(1).max(4096),
});
const Installation = z.looseObject({ id: z.number().int() });

const PushPayload = z.looseObject({
  ref: z.string().min(1).max(maxRefLength),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean().optional(),
  repository: Repository.extend({
    pushed_at: z.union([z.number(), z.string(), z.null()]).optional(),
    default_branch: z.string().min(1).max(maxRefLength).optional(),
  }),
  head_commit: z
    .looseObject({
      id: z.string().optional(),
      timestamp: z.string().optional(),
    })
    .nullable()
    .optional(),
  sender: Login.optional(),
  installation: Installation.optional(),
});

const PullRequestPayload = z.looseObject({
  action: z.string().max(100),
  number: z.number().int().positive(),
  pull_request: z.looseObject({
    updated_at: z.string().optional(),
    user: Login.nullable().optional(),
    head: z.looseObject({
      sha: z.string(),
      ref: z.string().max(maxRefLength),
      repo: Repository.nullable(),
    }),
    base: z.looseObject({
      sha: z.string(),
      ref: z.string().max(maxRefLength),
      repo: Repository,
    }),
  }),
  repository: Repository,
  sender: Login.optional(),
  installation: Installation.optional(),
});

const InstallationPayload = z.looseObject({
  action: z.string().max(100),
  installation: Installation.extend({
    // A user or organization has a login; an enterprise has a slug.
    account: z
      .looseObject({
        login: z.string().max(100).optional(),
        slug: z.string().max(100).optional(),
      })
      .nullable()
      .optional(),
  }),
  sender: Login.optional(),
});

type Fits<Payload, Schema extends z.ZodType> = [Payload] extends [
  z.input<Schema>,
]
  ? true
  : false;
type Expect<T extends true> = T;

/**
 * Checked by tsc, never used at runtime: every payload GitHub describes
 * (@octokit/webhooks' types, generated from GitHub's webhook schemas) is
 * accepted by the schema kiln parses it with, so a field GitHub documents
 * as nullable or optional is never required here. The schemas stay the
 * runtime check: types prove nothing about bytes from the network.
 */
export type GithubPayloadsFit = [
  Expect<Fits<EmitterWebhookEvent<'push'>['payload'], typeof PushPayload>>,
  Expect<
    Fits<
      EmitterWebhookEvent<'pull_request'>['payload'],
      typeof PullRequestPayload
    >
  >,
  Expect<
    Fits<
      EmitterWebhookEvent<'installation'>['payload'],
      typeof InstallationPayload
    >
  >,
];

const runningActions = new Set(['opened', 'synchronize', 'reopened']);

export function toTriggerEvent(
  eventName: string,
  payload: unknown,
): ToTriggerEventResult {
  switch (eventName) {
    case 'push':
      return toPush(payload);
    case 'pull_request':
      return toPullRequest(payload);
    case 'installation':
      return toInstallation(payload);
    case 'check_run':
    case 'check_suite':
      return toRerunEvent(eventName, payload);
    case 'ping':
      return { ignored: 'ping' };
    default:
      return {
        ignored: `event ${JSON.stringify(eventName.slice(0, 100))} does not start runs`,
      };
  }
}

function describeIssues(what: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue?.path.join('.') ?? '';
  return `${what} payload is malformed at ${path || '(root)'}: ${issue?.message ?? 'unexpected shape'}`;
}

function toPush(payload: unknown): ToTriggerEventResult {
  const parsed = PushPayload.safeParse(payload);
  if (!parsed.success)
    return { rejected: describeIssues('push', parsed.error) };
  const data = parsed.data;
  const deleted = data.deleted === true || zeroSha.test(data.after);
  if (!sha40.test(data.after)) {
    return {
      rejected: 'push "after" is not a 40-character lowercase hex SHA',
    };
  }
  if (!sha40.test(data.before)) {
    return {
      rejected: 'push "before" is not a 40-character lowercase hex SHA',
    };
  }
  let refType: 'branch' | 'tag';
  let refName: string;
  if (data.ref.startsWith('refs/heads/')) {
    refType = 'branch';
    refName = data.ref.slice('refs/heads/'.length);
  } else if (data.ref.startsWith('refs/tags/')) {
    refType = 'tag';
    refName = data.ref.slice('refs/tags/'.length);
  } else {
    return { ignored: 'push to a ref that is neither a branch nor a tag' };
  }
  return {
    event: {
      kind: 'push',
      repository: {
        fullName: data.repository.full_name,
        cloneUrl: data.repository.clone_url,
        ...(data.repository.default_branch !== undefined
          ? { defaultBranch: data.repository.default_branch }
          : {}),
      },
      ref: data.ref,
      refType,
      refName,
      sha: deleted
        ? null
        : commitOf({
            refType,
            after: data.after,
            headCommit: data.head_commit?.id,
          }),
      before: zeroSha.test(data.before) ? null : data.before,
      deleted,
      sender: data.sender?.login,
      installationId: data.installation?.id,
      pushedAt:
        toMillis(data.repository.pushed_at) ??
        toMillis(data.head_commit?.timestamp),
    },
  };
}

function toPullRequest(payload: unknown): ToTriggerEventResult {
  const parsed = PullRequestPayload.safeParse(payload);
  if (!parsed.success) {
    return { rejected: describeIssues('pull_request', parsed.error) };
  }
  const data = parsed.data;
  const { head, base } = data.pull_request;
  const action = data.action;
  if (action !== 'closed' && !runningActions.has(action)) {
    return {
      ignored: `pull_request action ${JSON.stringify(action)} does not run pipelines`,
    };
  }
  if (head.repo === null) {
    return { ignored: 'source repository gone' };
  }
  if (!sha40.test(head.sha) || !sha40.test(base.sha)) {
    return {
      rejected:
        'pull request head or base SHA is not 40 lowercase hex characters',
    };
  }
  const fork =
    head.repo.full_name !== base.repo.full_name ||
    (head.repo.id !== undefined &&
      base.repo.id !== undefined &&
      head.repo.id !== base.repo.id);
  return {
    event: {
      kind: 'pull_request',
      action: action as PullRequestTriggerEvent['action'],
      repository: {
        fullName: base.repo.full_name,
        cloneUrl: base.repo.clone_url,
      },
      number: data.number,
      ref: `refs/pull/${data.number}/head`,
      sha: head.sha,
      baseSha: base.sha,
      baseBranch: base.ref,
      headBranch: head.ref,
      fork,
      headRepository: head.repo.full_name,
      sender: data.sender?.login,
      author: data.pull_request.user?.login,
      installationId: data.installation?.id,
      updatedAt: toMillis(data.pull_request.updated_at),
    },
  };
}

function toInstallation(payload: unknown): ToTriggerEventResult {
  const parsed = InstallationPayload.safeParse(payload);
  if (!parsed.success) {
    return { rejected: describeIssues('installation', parsed.error) };
  }
  return {
    event: {
      kind: 'installation',
      action: parsed.data.action,
      installationId: parsed.data.installation.id,
      account:
        parsed.data.installation.account?.login ??
        parsed.data.installation.account?.slug,
      sender: parsed.data.sender?.login,
    },
  };
}

/** GitHub sends `pushed_at` as epoch seconds and other times as ISO text. */
function toMillis(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/**
 * For an annotated tag, `after` is the tag object, not a commit; the
 * commit it points to is `head_commit.id`.
 */
function commitOf(options: {
  refType: 'branch' | 'tag';
  after: string;
  headCommit: string | undefined;
}): string {
  const { refType, after, headCommit } = options;
  if (refType === 'tag' && headCommit !== undefined && sha40.test(headCommit)) {
    return headCommit;
  }
  return after;
}
