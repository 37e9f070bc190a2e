/**
 * Writes a commit status, at most once per (state, description) for a
 * (SHA, context), and never more than STATUS_CAP times: GitHub refuses
 * the 1,001st status of a context and counts every write against the
 * secondary limit. The last posted value is remembered in Redis.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { GithubOctokit } from '../forge/github/create-github-client.js';
import type { CommitState } from '../metrics/describe-run.js';
import type { WriteGate } from './write-budget.js';

/** Well under GitHub's 1,000; the last few are kept for final states. */
export const STATUS_CAP = 50;
const KEEP_FOR_FINAL = 5;
const TTL_SECONDS = 90 * 24 * 3600;

export interface PostCommitStatusOptions {
  redis: Redis;
  keys: RedisKeys;
  octokit: GithubOctokit;
  repository: string;
  sha: string;
  context: string;
  state: CommitState;
  description: string;
  targetUrl?: string;
  /** Don't write when nothing was posted before (superseded runs). */
  onlyIfPosted?: boolean;
  /** Asked before the write (a final state is a `final` write). */
  gate?: WriteGate;
}

export type PostOutcome = 'posted' | 'unchanged' | 'capped' | 'skipped';

export async function postCommitStatus(
  options: PostCommitStatusOptions,
): Promise<PostOutcome> {
  const { redis, state, description } = options;
  const key = options.keys.githubStatus(
    options.repository,
    options.sha,
    options.context,
  );
  const signature = JSON.stringify([state, description]);
  const [last, countText] = await redis.hmget(key, 'last', 'count');
  if (last === signature) return 'unchanged';
  if (last === null && options.onlyIfPosted) return 'skipped';
  const count = Number(countText ?? 0);
  const cap = state === 'pending' ? STATUS_CAP - KEEP_FOR_FINAL : STATUS_CAP;
  if (count >= cap) return 'capped';
  await options.gate?.(state === 'pending' ? 'routine' : 'final');
  await redis.multi().hincrby(key, 'count', 1).expire(key, TTL_SECONDS).exec();
  const [owner = '', repo = ''] = options.repository.split('/');
  await options.octokit.rest.repos.createCommitStatus({
    owner,
    repo,
    sha: options.sha,
    state,
    context: options.context,
    description,
    ...(options.targetUrl ? { target_url: options.targetUrl } : {}),
  });
  await redis.hset(key, 'last', signature);
  return 'posted';
}
