/**
 * What GitHub has received of a run's report, from the reporter's own
 * records in Redis (each written after GitHub accepted the write): the
 * state of the last commit status posted for the run's commit and
 * pipeline, and, for a pull request's run, whether the PR comment shows
 * this run (or a later one). For whoever must know the report arrived
 * before stopping kiln (`npm run demo -- --ci`).
 */
import type { Redis } from 'ioredis';
import type { RunRecord } from '../model/run.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import { statusContext } from './build-run-report.js';
import type { CommitState } from '../metrics/describe-run.js';

export interface RunDelivery {
  /** The last state posted for the commit and pipeline; absent: none yet. */
  status?: CommitState;
  /** Pull request runs: the comment holds this run's report or a later one's. */
  comment?: boolean;
}

export async function readRunDelivery(
  redis: Redis,
  keys: RedisKeys,
  run: RunRecord,
): Promise<RunDelivery> {
  const last = await redis.hget(
    keys.githubStatus(run.repository, run.commit, statusContext(run)),
    'last',
  );
  const delivery: RunDelivery = {};
  if (last !== null) {
    const [state] = JSON.parse(last) as [CommitState, string];
    delivery.status = state;
  }
  const pullRequest = run.trigger?.pullRequest;
  if (pullRequest !== undefined) {
    const counter = await redis.hget(
      keys.githubComment(run.repository, pullRequest, run.name),
      'counter',
    );
    delivery.comment = counter !== null && Number(counter) >= run.counter;
  }
  return delivery;
}
