/**
 * One report job: reads a run's latest state and brings GitHub in line
 * with it — the commit status first, then the check run, then the PR
 * comment. Idempotent: running it twice for the same state writes nothing
 * the second time, so a job that had to step aside (the write budget, a
 * comment another job is writing) just runs again later and picks up the
 * state of that time. Rate limits become a shared backoff; a 401 mints a
 * new token once; a 422 is logged once and not retried.
 */
import type { Logger } from 'pino';
import type { GithubClient } from '../forge/github/create-github-client.js';
import type { RunRecord } from '../model/run.js';
import { buildRunReport, type RunReportDeps } from './build-run-report.js';
import {
  extendBackoff,
  GithubBackoffError,
  rateLimitWaitMs,
  readBackoff,
} from './github-backoff.js';
import { postCommitStatus } from './post-commit-status.js';
import { commentMarker } from './render-pr-comment.js';
import { upsertCheckRun } from './upsert-check-run.js';
import { upsertPrComment } from './upsert-pr-comment.js';
import { withRedisLock } from '../redis/with-redis-lock.js';
import { WriteDeferredError, type WriteGate } from './write-budget.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';

export interface ReportRunDeps extends RunReportDeps {
  github: GithubClient;
  logger: Logger;
  /** Asked before every write; absent: write at once. */
  gate?: WriteGate;
  now?: () => number;
}

/** How long a job waits for a comment another job is writing. */
const COMMENT_BUSY_MS = 250;

/** Runs kiln can report on GitHub: `owner/name` and a real commit. */
export function isReportable(run: RunRecord): boolean {
  // `kiln run` records a local checkout: nothing on GitHub to report to.
  if (run.source?.id.startsWith('local/')) return false;
  return (
    /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(run.repository) &&
    /^[0-9a-f]{40}$/.test(run.commit)
  );
}

export async function reportRun(
  deps: ReportRunDeps,
  runId: string,
): Promise<void> {
  const now = deps.now ?? Date.now;
  const until = await readBackoff(deps.redis, deps.keys, now);
  if (until > now()) throw new GithubBackoffError(until);
  const run = await deps.runs.getRun(runId);
  if (!run || !isReportable(run)) return;
  try {
    await writeReport(deps, run);
  } catch (error) {
    const wait = rateLimitWaitMs(error, now());
    if (wait !== undefined) {
      const next = now() + wait;
      await extendBackoff(deps.redis, {
        keys: deps.keys,
        until: next,
        now: now(),
      });
      throw new GithubBackoffError(next);
    }
    if ((error as { status?: number }).status === 401) {
      // An expired or revoked token: mint a new one, once.
      deps.github.forgetTokens();
      await writeReport(deps, run);
      return;
    }
    throw error;
  }
}

async function writeReport(deps: ReportRunDeps, run: RunRecord) {
  const report = await buildRunReport(deps, run);
  const octokit = await deps.github.forRepository(
    run.repository,
    run.trigger?.installationId,
  );
  const superseded = run.status === 'cancelled';
  await postCommitStatus({
    redis: deps.redis,
    keys: deps.keys,
    octokit,
    repository: run.repository,
    sha: run.commit,
    context: report.context,
    state: report.description.state,
    description: report.description.description,
    targetUrl: report.targetUrl,
    // A run cancelled before anything was posted leaves no trace.
    onlyIfPosted: superseded,
    gate: deps.gate,
  });
  if (deps.github.canCreateCheckRuns) {
    await upsertCheckRun({
      redis: deps.redis,
      keys: deps.keys,
      octokit,
      run,
      name: report.context,
      description: report.description,
      summary: report.body,
      findings: report.findings,
      failedSteps: report.failedSteps,
      detailsUrl: report.targetUrl,
      onlyIfCreated: superseded,
      gate: deps.gate,
    });
  }
  const pullRequest = run.trigger?.pullRequest;
  if (
    pullRequest &&
    isFinalRunStatus(run.status) &&
    !superseded &&
    !(await hasNewerFinishedRun(deps, run))
  ) {
    // Runs of one pipeline on one PR share a comment: one job at a time
    // may create or edit it, or two could both create it.
    const comment = await withRedisLock(
      deps.redis,
      {
        key: deps.keys.githubLock(
          `comment:${run.repository}:${pullRequest}:${run.name}`,
        ),
      },
      () =>
        upsertPrComment({
          redis: deps.redis,
          keys: deps.keys,
          octokit,
          repository: run.repository,
          pullRequest,
          pipeline: run.name,
          marker: commentMarker(run.name),
          body: report.body,
          counter: run.counter,
          gate: deps.gate,
        }),
    );
    if (!comment.locked) {
      throw new WriteDeferredError(
        Date.now() + COMMENT_BUSY_MS,
        'another report is writing this comment',
      );
    }
  }
}

/**
 * A later run of the same pipeline on the same pull request has finished:
 * its report replaces this one's in the comment, so this one is not
 * written (a burst of pushes costs one comment edit, not one per push).
 */
async function hasNewerFinishedRun(
  deps: ReportRunDeps,
  run: RunRecord,
): Promise<boolean> {
  if (!run.ref) return false;
  const recent = await deps.runs.listRuns({
    repository: run.repository,
    ref: run.ref,
    limit: 50,
  });
  return recent.some(
    (other) =>
      other.name === run.name &&
      other.counter > run.counter &&
      isFinalRunStatus(other.status) &&
      other.status !== 'cancelled',
  );
}
