/**
 * One report job: reads a run's latest state and brings GitHub in line
 * with it — the commit status first, then the check run, then the PR
 * comment. Idempotent: running it twice for the same state writes nothing
 * the second time, so a job that had to step aside (the write budget, a
 * comment another job is writing) just runs again later and picks up the
 * state of that time. Rate limits become a shared backoff, after which one
 * job probes GitHub before the others go (github-backoff.ts); a 401 mints
 * a new token once, and a second 401 marks reporting broken
 * (reporting-broken.ts) and waits like a rate limit; a 422 is not retried.
 */
import type { Logger } from 'pino';
import type { GithubClient } from '../forge/github/create-github-client.js';
import type { RunRecord } from '../model/run.js';
import { buildRunReport, type RunReportDeps } from './build-run-report.js';
import {
  DEFAULT_PROBE_INTERVAL_MS,
  enterGithub,
  extendBackoff,
  GithubBackoffError,
  probeSucceeded,
  rateLimitWaitMs,
  releaseProbe,
} from './github-backoff.js';
import { postCommitStatus } from './post-commit-status.js';
import { commentMarker } from './render-pr-comment.js';
import {
  clearReportingBroken,
  markReportingBroken,
} from './reporting-broken.js';
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
  /**
   * While GitHub refuses kiln, one try per this long at most.
   * @defaultValue DEFAULT_PROBE_INTERVAL_MS
   */
  probeIntervalMs?: number;
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
  const probeIntervalMs = deps.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  const entry = await enterGithub(deps.redis, {
    keys: deps.keys,
    leaseMs: probeIntervalMs,
    now: deps.now,
  });
  if (entry.wait > 0) throw new GithubBackoffError(entry.wait);
  const probe = 'probe' in entry && entry.probe;
  const run = await deps.runs.getRun(runId);
  if (!run || !isReportable(run)) {
    // Nothing asked of GitHub: the next job probes.
    if (probe) await releaseProbe(deps.redis, deps.keys);
    return;
  }
  try {
    await writeWithRefresh(deps, run, probeIntervalMs);
  } catch (error) {
    if (probe) {
      const status = statusOf(error);
      // GitHub answered, just not with a success: the probe is over.
      if (status === 422) await probeSucceeded(deps.redis, deps.keys);
      // Stepped aside (the write budget, a busy comment) or failed before
      // GitHub answered: the next job probes now. A 5xx or a timeout (a
      // status) keeps the lease: one try per interval.
      else if (status === undefined && !(error instanceof GithubBackoffError))
        await releaseProbe(deps.redis, deps.keys);
    }
    throw error;
  }
  if (probe) await probeSucceeded(deps.redis, deps.keys);
  if (await clearReportingBroken(deps.redis, deps.keys)) {
    deps.logger.warn(
      { runId },
      "GitHub accepts kiln's credentials again: reporting to GitHub resumed",
    );
  }
}

/**
 * The report; a 401 mints a new token and tries once more, a second 401
 * marks reporting broken; rate limits become everyone's wait.
 */
async function writeWithRefresh(
  deps: ReportRunDeps,
  run: RunRecord,
  probeIntervalMs: number,
): Promise<void> {
  try {
    await writeReport(deps, run);
  } catch (error) {
    if (statusOf(error) !== 401)
      throw await asBackoff(deps, error, probeIntervalMs);
    // An expired or revoked token: mint a new one, once.
    deps.github.forgetTokens();
    try {
      await writeReport(deps, run);
    } catch (again) {
      if (statusOf(again) !== 401)
        throw await asBackoff(deps, again, probeIntervalMs);
      await reportingBroken(deps, again, probeIntervalMs);
    }
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { status?: number }).status;
}

/** A rate limit becomes everyone's wait; anything else is `error` itself. */
async function asBackoff(
  deps: ReportRunDeps,
  error: unknown,
  probeIntervalMs: number,
): Promise<unknown> {
  const now = deps.now ?? Date.now;
  const wait = rateLimitWaitMs(error, now());
  if (wait === undefined) return error;
  const at = now();
  const until = await extendBackoff(deps.redis, {
    keys: deps.keys,
    until: at + wait,
    now: at,
    probeIntervalMs,
  });
  return new GithubBackoffError(until);
}

/**
 * GitHub refused a fresh token: nothing will be posted until the App's
 * installation or KILN_GITHUB_TOKEN is fixed. Said once (an error line
 * and `kiln_github_reporting_broken`); every report waits, and one tries
 * again per probe interval, so reporting resumes by itself once GitHub
 * takes kiln's credentials again. Steps never wait on it.
 */
async function reportingBroken(
  deps: ReportRunDeps,
  error: unknown,
  probeIntervalMs: number,
): Promise<never> {
  const reason = (error as Error).message;
  if (await markReportingBroken(deps.redis, deps.keys, reason)) {
    deps.logger.error(
      { err: error },
      "GitHub refuses kiln's credentials (401) even with a new token: reporting to GitHub is broken until the App is installed again or KILN_GITHUB_TOKEN is replaced; reports wait and are posted then",
    );
  }
  const until = await extendBackoff(deps.redis, {
    keys: deps.keys,
    until: Date.now() + probeIntervalMs,
    probeIntervalMs,
  });
  throw new GithubBackoffError(until, "GitHub refuses kiln's credentials");
}

async function writeReport(deps: ReportRunDeps, run: RunRecord) {
  const report = await buildRunReport(deps, run);
  const octokit = await deps.github.forRepository(
    run.repository,
    run.trigger?.installationId,
  );
  const superseded = run.status === 'cancelled';
  // A 422 (GitHub refused one write's content) does not keep the others
  // from being written; the first is rethrown at the end.
  const refused: unknown[] = [];
  async function part(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (statusOf(error) !== 422) throw error;
      refused.push(error);
    }
  }
  await part(() =>
    postCommitStatus({
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
    }),
  );
  if (deps.github.canCreateCheckRuns) {
    await part(() =>
      upsertCheckRun({
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
      }),
    );
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
    let locked = true;
    await part(async () => {
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
      locked = comment.locked;
    });
    if (!locked) {
      throw new WriteDeferredError(
        Date.now() + COMMENT_BUSY_MS,
        'another report is writing this comment',
      );
    }
  }
  if (refused.length > 0) throw refused[0];
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
