/**
 * A re-run asked for on GitHub: the "Re-run" button of a check run
 * (`check_run` `rerequested`) or "Re-run all checks" of a commit
 * (`check_suite` `rerequested`). kiln sets each check run's `external_id`
 * to the run it reports, so a check run names the run to re-run; a check
 * suite names a commit, whose pipelines are all re-run. Other actions
 * (`created`, `completed`, the `requested` a push sends) start nothing:
 * the push or pull request delivery does.
 */
import type { EmitterWebhookEvent } from '@octokit/webhooks';
import { z } from 'zod';
import type { RepositoryRef } from './repository-ref.js';

export interface RerunTriggerEvent {
  kind: 'rerun';
  /** `check_run`: the run it reports; `check_suite`: every pipeline of the commit. */
  scope: 'check_run' | 'check_suite';
  repository: RepositoryRef;
  sha: string;
  /** The check run's `external_id`: the id of the run it reports. */
  runId?: string;
  /** The check run's name (`kiln/<pipeline>`), for the delivery log. */
  checkName?: string;
  /** Who pressed the button (an authenticated GitHub login). */
  sender?: string;
  installationId?: number;
}

export type ToRerunEventResult =
  { event: RerunTriggerEvent } | { ignored: string } | { rejected: string };

const sha40 = /^[0-9a-f]{40}$/;
const fullName = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;
const runId = /^[A-Za-z0-9._-]{1,128}$/;

const Login = z.looseObject({ login: z.string().max(100) });
const Repository = z.looseObject({
  full_name: z.string().regex(fullName),
  clone_url: z.string().min(1).max(4096),
});
const Installation = z.looseObject({ id: z.number().int() });

const CheckRunPayload = z.looseObject({
  action: z.string().max(100),
  check_run: z.looseObject({
    head_sha: z.string(),
    external_id: z.string().max(1000).nullable().optional(),
    name: z.string().max(1000),
  }),
  repository: Repository,
  sender: Login.optional(),
  installation: Installation.optional(),
});

const CheckSuitePayload = z.looseObject({
  action: z.string().max(100),
  check_suite: z.looseObject({ head_sha: z.string() }),
  repository: Repository,
  sender: Login.optional(),
  installation: Installation.optional(),
});

type Fits<Payload, Schema extends z.ZodType> = [Payload] extends [
  z.input<Schema>,
]
  ? true
  : false;
type Expect<T extends true> = T;

/**
 * Checked by tsc, never used at runtime: the payloads GitHub describes
 * (@octokit/webhooks' types) are accepted by the schemas kiln parses them
 * with.
 */
export type RerunPayloadsFit = [
  Expect<
    Fits<EmitterWebhookEvent<'check_run'>['payload'], typeof CheckRunPayload>
  >,
  Expect<
    Fits<
      EmitterWebhookEvent<'check_suite'>['payload'],
      typeof CheckSuitePayload
    >
  >,
];

export function toRerunEvent(
  eventName: 'check_run' | 'check_suite',
  payload: unknown,
): ToRerunEventResult {
  return eventName === 'check_run'
    ? toCheckRunRerun(payload)
    : toCheckSuiteRerun(payload);
}

function toCheckRunRerun(payload: unknown): ToRerunEventResult {
  const parsed = CheckRunPayload.safeParse(payload);
  if (!parsed.success) return malformed('check_run', parsed.error);
  const data = parsed.data;
  if (data.action !== 'rerequested') return notRerun('check_run', data.action);
  const check = data.check_run;
  if (!sha40.test(check.head_sha))
    return { rejected: 'check_run head_sha is not a 40-hex SHA' };
  const external = check.external_id ?? '';
  if (!runId.test(external)) {
    return {
      ignored: `check run ${JSON.stringify(check.name.slice(0, 100))} is not one of kiln's (no run id in external_id)`,
    };
  }
  return {
    event: {
      ...common(data),
      scope: 'check_run',
      sha: check.head_sha,
      runId: external,
      checkName: check.name.slice(0, 200),
    },
  };
}

function toCheckSuiteRerun(payload: unknown): ToRerunEventResult {
  const parsed = CheckSuitePayload.safeParse(payload);
  if (!parsed.success) return malformed('check_suite', parsed.error);
  const data = parsed.data;
  if (data.action !== 'rerequested')
    return notRerun('check_suite', data.action);
  if (!sha40.test(data.check_suite.head_sha))
    return { rejected: 'check_suite head_sha is not a 40-hex SHA' };
  return {
    event: {
      ...common(data),
      scope: 'check_suite',
      sha: data.check_suite.head_sha,
    },
  };
}

function common(data: {
  repository: { full_name: string; clone_url: string };
  sender?: { login: string };
  installation?: { id: number };
}) {
  return {
    kind: 'rerun' as const,
    repository: {
      fullName: data.repository.full_name,
      cloneUrl: data.repository.clone_url,
    },
    sender: data.sender?.login,
    installationId: data.installation?.id,
  };
}

function malformed(what: string, error: z.ZodError): ToRerunEventResult {
  const issue = error.issues[0];
  return {
    rejected: `${what} payload is malformed at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unexpected shape'}`,
  };
}

function notRerun(what: string, action: string): ToRerunEventResult {
  return {
    ignored: `${what} action ${JSON.stringify(action)} does not start runs`,
  };
}
