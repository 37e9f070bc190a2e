/**
 * Keeps one comment per pull request and pipeline: created once, then
 * edited in place. Its id is kept in Redis; the hidden marker, found by a
 * paginated listing of the PR's comments, is the fallback (a lost id, or a
 * create that GitHub performed but answered with a 502). The create is
 * never retried inside the request for that reason.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { GithubOctokit } from '../forge/github/create-github-client.js';
import type { PostOutcome } from './post-commit-status.js';
import type { WriteGate } from './write-budget.js';

export interface UpsertPrCommentOptions {
  redis: Redis;
  keys: RedisKeys;
  octokit: GithubOctokit;
  repository: string;
  pullRequest: number;
  pipeline: string;
  marker: string;
  body: string;
  /** The run's counter: an older run never overwrites a newer one's report. */
  counter: number;
  /** Asked before each write (comment edits are `routine`). */
  gate?: WriteGate;
}

const TTL_SECONDS = 180 * 24 * 3600;

export async function upsertPrComment(
  options: UpsertPrCommentOptions,
): Promise<PostOutcome> {
  const { redis, octokit, body } = options;
  const key = options.keys.githubComment(
    options.repository,
    options.pullRequest,
    options.pipeline,
  );
  const [idText, hash, counterText] = await redis.hmget(
    key,
    'id',
    'hash',
    'counter',
  );
  const digest = createHash('sha256').update(body).digest('hex');
  if (counterText !== null && Number(counterText) > options.counter)
    return 'skipped';
  if (hash === digest) return 'unchanged';
  const [owner = '', repo = ''] = options.repository.split('/');
  let id = idText === null ? undefined : Number(idText);
  if (id !== undefined) {
    await options.gate?.('routine');
    try {
      await octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: id,
        body,
      });
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
      // Deleted on GitHub (or an id from another GitHub): forget it now,
      // or a job that steps aside for the write budget below would edit
      // the missing comment again each time it comes back, for ever.
      await redis.hdel(key, 'id');
      id = undefined;
    }
  }
  if (id === undefined) {
    id = await findByMarker({ ...options, owner, repo });
    await options.gate?.('routine');
    if (id !== undefined) {
      await octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: id,
        body,
      });
    } else {
      const created = await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: options.pullRequest,
        body,
        request: { retries: 0 },
      });
      id = created.data.id;
    }
  }
  await redis
    .multi()
    .hset(key, {
      id: String(id),
      hash: digest,
      counter: String(options.counter),
    })
    .expire(key, TTL_SECONDS)
    .exec();
  return 'posted';
}

async function findByMarker(
  options: UpsertPrCommentOptions & { owner: string; repo: string },
): Promise<number | undefined> {
  const pages = options.octokit.paginate.iterator(
    options.octokit.rest.issues.listComments,
    {
      owner: options.owner,
      repo: options.repo,
      issue_number: options.pullRequest,
      per_page: 100,
    },
  );
  let found: number | undefined;
  // The last marked comment wins, like CML; pages are bounded by the PR.
  for await (const page of pages) {
    for (const comment of page.data) {
      if (comment.body?.startsWith(options.marker)) found = comment.id;
    }
  }
  return found;
}
