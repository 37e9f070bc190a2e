/**
 * One check run per pipeline and head SHA (App auth only): created
 * `in_progress`, then completed with a conclusion; the summary is the PR
 * report and configuration findings become annotations on the config
 * file's lines. The check run's id is kept in Redis.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { Finding } from '../config/finding.js';
import type { GithubOctokit } from '../forge/github/create-github-client.js';
import type { RunRecord } from '../model/run.js';
import type { RunDescription } from '../metrics/describe-run.js';
import type { PostOutcome } from './post-commit-status.js';
import { truncateBody } from './render-pr-comment.js';

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
  detailsUrl?: string;
  /** Only complete a check run created earlier (superseded runs). */
  onlyIfCreated?: boolean;
}

export async function upsertCheckRun(
  options: UpsertCheckRunOptions,
): Promise<PostOutcome> {
  const { redis, octokit, run, description } = options;
  const key = options.keys.githubCheck(
    run.repository,
    run.commit,
    options.name,
  );
  const completed = description.state !== 'pending';
  const output = {
    title: description.description,
    summary: truncateBody(options.summary, MAX_SUMMARY),
    annotations: toAnnotations(options.findings),
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

function toAnnotations(findings: readonly Finding[]) {
  return findings
    .filter((finding) => finding.line > 0)
    .slice(0, MAX_ANNOTATIONS)
    .map((finding) => ({
      path: finding.file,
      start_line: finding.line,
      end_line: finding.line,
      annotation_level:
        finding.severity === 'error'
          ? ('failure' as const)
          : ('warning' as const),
      message: finding.message.slice(0, 4000),
    }));
}
