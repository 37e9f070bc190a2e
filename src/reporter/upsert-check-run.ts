/**
 * One check run per run of a pipeline (App auth only; a re-run gets a new
 * one, as GitHub expects after a re-run request): created `in_progress`,
 * then completed with a conclusion; the summary is the PR report, and
 * configuration findings and failed steps become annotations on the
 * configuration file's lines. The check run's id is kept in Redis.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { Finding } from '../config/finding.js';
import type { GithubOctokit } from '../forge/github/create-github-client.js';
import type { RunRecord } from '../model/run.js';
import type { FailedStep } from './build-run-report.js';
import type { RunDescription } from '../metrics/describe-run.js';
import type { PostOutcome } from './post-commit-status.js';
import { truncateBody } from './render-pr-comment.js';
import type { WriteGate } from './write-budget.js';

/** GitHub takes at most 50 annotations per request. */
export const MAX_ANNOTATIONS = 50;
const MAX_SUMMARY = 65_535;
const TTL_SECONDS = 90 * 24 * 3600;

export interface UpsertCheckRunOptions {
  redis: Redis;
  keys: RedisKeys;
  octokit: GithubOctokit;
  run: RunRecord;
  name: string;
  description: RunDescription;
  summary: string;
  findings: readonly Finding[];
  failedSteps?: readonly FailedStep[];
  detailsUrl?: string;
  /** Only complete a check run created earlier (superseded runs). */
  onlyIfCreated?: boolean;
  /** Asked before the write (completing the check run is `final`). */
  gate?: WriteGate;
}

export async function upsertCheckRun(
  options: UpsertCheckRunOptions,
): Promise<PostOutcome> {
  const { redis, octokit, run, description } = options;
  const key = options.keys.githubCheck(run.id);
  const completed = description.state !== 'pending';
  const output = {
    title: description.description,
    summary: truncateBody(options.summary, MAX_SUMMARY),
    annotations: toAnnotations(options.findings, options.failedSteps ?? []),
  };
  const signature = createHash('sha256')
    .update(JSON.stringify([description, output]))
    .digest('hex');
  const [idText, last] = await redis.hmget(key, 'id', 'last');
  if (last === signature) return 'unchanged';
  if (idText === null && options.onlyIfCreated) return 'skipped';
  const [owner = '', repo = ''] = run.repository.split('/');
  const fields = {
    owner,
    repo,
    name: options.name,
    ...(options.detailsUrl ? { details_url: options.detailsUrl } : {}),
    external_id: run.id,
    output,
    ...(completed
      ? {
          status: 'completed' as const,
          conclusion: conclusionOf(run, description),
          completed_at: run.endedAt ?? new Date().toISOString(),
        }
      : { status: 'in_progress' as const }),
  };
  await options.gate?.(completed ? 'final' : 'routine');
  let id = idText === null ? undefined : Number(idText);
  if (id === undefined) {
    const created = await octokit.rest.checks.create({
      ...fields,
      head_sha: run.commit,
      request: { retries: 0 },
    });
    id = created.data.id;
  } else {
    await octokit.rest.checks.update({ ...fields, check_run_id: id });
  }
  await redis
    .multi()
    .hset(key, { id: String(id), last: signature })
    .expire(key, TTL_SECONDS)
    .exec();
  return 'posted';
}

function conclusionOf(run: RunRecord, description: RunDescription) {
  if (description.state === 'success') return 'success' as const;
  if (run.status === 'cancelled' || run.status === 'stopped')
    return 'cancelled' as const;
  return 'failure' as const;
}

/** Failed steps first (they are why a valid configuration failed). */
function toAnnotations(
  findings: readonly Finding[],
  failedSteps: readonly FailedStep[],
) {
  const steps = failedSteps
    .filter((step) => step.line > 0)
    .map((step) => ({
      path: step.file,
      start_line: step.line,
      end_line: step.line,
      annotation_level: 'failure' as const,
      title: `step ${step.node} failed`.slice(0, 255),
      message: step.message.slice(0, 4000),
    }));
  const problems = findings
    .filter((finding) => finding.line > 0)
    .map((finding) => ({
      path: finding.file,
      start_line: finding.line,
      end_line: finding.line,
      ...(finding.column > 0
        ? { start_column: finding.column, end_column: finding.column }
        : {}),
      annotation_level:
        finding.severity === 'error'
          ? ('failure' as const)
          : ('warning' as const),
      message: finding.message.slice(0, 4000),
    }));
  return [...steps, ...problems].slice(0, MAX_ANNOTATIONS);
}
