/**
 * Creates the runs a push or pull request starts from the configuration at
 * its commit: one failed run carrying the findings when the configuration
 * is invalid, else one run per matching trigger, each superseding the older
 * unfinished runs of its pipeline unless the trigger says
 * `cancel-superseded: false`. Run ids come from the event itself (not its
 * delivery id) and the trigger's position, so a re-processed delivery finds
 * its runs, and so does the same push delivered under a second GUID (a
 * repository webhook beside the App, a second hook on the same URL).
 */
import type { Finding } from '../config/finding.js';
import { isZeroObjectId } from '../git/object-id.js';
import { createHash } from 'node:crypto';
import { loadConfig } from '../config/load-config.js';
import type {
  PullRequestTriggerEvent,
  PushTriggerEvent,
} from '../forge/github/to-trigger-event.js';
import { isGitError } from '../git/git-error.js';
import type { RepositorySource } from '../git/repository-source.js';
import { createRun } from '../control/create-run.js';
import { decideTrust } from '../orchestrator/decide-trust.js';
import { makeOutcome, type DeliveryOutcome } from './delivery-outcome.js';
import type { IntakeJob } from './intake-queue.js';
import { matchTriggers, needsChangedPaths } from './match-triggers.js';
import type { IntakeDeps } from './intake-deps.js';
import { supersedeRuns } from '../control/supersede-runs.js';

export interface CreateRunsInput {
  job: IntakeJob;
  event: PushTriggerEvent | PullRequestTriggerEvent;
  source: RepositorySource;
  sha: string;
  file: string;
  text: string;
  /** Found before the text could be read (bytes that are not UTF-8). */
  findings?: Finding[];
}

export async function createTriggerRuns(
  deps: IntakeDeps,
  input: CreateRunsInput,
): Promise<DeliveryOutcome> {
  const { event, source, sha, file, text, job } = input;
  const kind = event.kind;
  const unreadable = input.findings ?? [];
  const loaded = loadConfig(text, { file });
  const trust = decideTrust(
    kind === 'pull_request'
      ? {
          how: 'pull_request',
          fork: event.fork,
          author: event.author ?? event.sender,
          headRepository: event.headRepository,
        }
      : { how: 'push' },
  );
  const common = {
    repository: event.repository.fullName,
    source: { id: source.id, url: source.url },
    commit: sha,
    ref: event.ref,
    configText: text,
    configFile: file,
    trigger: {
      event: kind,
      deliveryId: job.deliveryId,
      pullRequest: kind === 'pull_request' ? event.number : undefined,
      sender: event.sender,
      fork: kind === 'pull_request' ? event.fork : false,
      installationId: event.installationId,
      // The reporter compares a pull request with its base branch's runs.
      ...(kind === 'pull_request'
        ? {
            baseRef: `refs/heads/${event.baseBranch}`,
            baseSha: event.baseSha,
            headRef: event.headBranch,
          }
        : {}),
    },
    trusted: trust.trusted,
    requireApproval: trust.hold,
  };
  if (!loaded.valid || unreadable.length > 0) {
    // One failed run carries the findings, so the problem shows where runs do.
    const run = await createRun(deps.control, {
      ...common,
      configFindings: unreadable,
      name: loaded.config.triggers[0]?.run || file,
      id: runIdFor(eventKey(event), 'config'),
    });
    return makeOutcome('runs-created', {
      reason: `${file} is not valid`,
      runIds: [run.id],
    });
  }
  const triggers = loaded.config.triggers;
  if (!triggers.some((trigger) => trigger.on.includes(kind))) {
    return makeOutcome('ignored', {
      reason: `${file} has no trigger for ${kind}`,
    });
  }
  const refType = kind === 'push' ? event.refType : 'branch';
  const refName = kind === 'push' ? event.refName : event.baseBranch;
  const before = kind === 'push' ? event.before : event.baseSha;
  const changedPaths = needsChangedPaths(triggers, kind)
    ? await changedPathsOrNull(deps, { source, before, head: sha })
    : null;
  const matches = matchTriggers({
    triggers,
    event: kind,
    refType,
    refName,
    changedPaths,
  });
  if (matches.length === 0) {
    return makeOutcome('ignored', {
      reason: `no trigger in ${file} matches ${kind} to ${refType} ${refName}`,
    });
  }
  const eventTime =
    (kind === 'push' ? event.pushedAt : event.updatedAt) ?? Date.now();
  const runIds: string[] = [];
  const cancelled: string[] = [];
  for (const { trigger, index } of matches) {
    const id = runIdFor(eventKey(event), String(index));
    await deps.eventTimes.record(id, eventTime);
    const run = await createRun(deps.control, {
      ...common,
      id,
      name: trigger.run,
      parameters: trigger.parameters,
    });
    runIds.push(run.id);
    if (trigger.cancelSuperseded && run.status !== 'error') {
      const result = await supersedeRuns(
        { ...deps.control, eventTimes: deps.eventTimes },
        run,
      );
      cancelled.push(...result.cancelled);
    }
  }
  return makeOutcome('runs-created', { runIds, cancelledRunIds: cancelled });
}

/** Deterministic per (key, part): a re-processed job finds its runs. */
export function runIdFor(key: string, part: string): string {
  const digest = createHash('sha256').update(`${key}\n${part}`).digest('hex');
  return `g${digest.slice(0, 24)}`;
}

/**
 * What makes two deliveries the same event: the ref's move for a push, the
 * pull request's action at its head for a pull request. The event's own
 * time is part of it, so pushing the same commits again, or reopening a
 * pull request a second time, is a new event; two deliveries of one event
 * carry the same payload, time included.
 */
export function eventKey(
  event: PushTriggerEvent | PullRequestTriggerEvent,
): string {
  const repository = event.repository.fullName.toLowerCase();
  return event.kind === 'push'
    ? [
        'push',
        repository,
        event.ref,
        event.before ?? '',
        event.sha ?? '',
        event.pushedAt ?? '',
      ].join('\n')
    : [
        'pull_request',
        repository,
        event.number,
        event.action,
        event.sha,
        event.updatedAt ?? '',
      ].join('\n');
}

async function changedPathsOrNull(
  deps: IntakeDeps,
  options: { source: RepositorySource; before: string | null; head: string },
): Promise<string[] | null> {
  // A new branch's push has an all-zeros `before`: the changes are unknown.
  if (options.before === null || isZeroObjectId(options.before)) return null;
  try {
    return await deps.git.changedPaths(
      options.source,
      options.before,
      options.head,
    );
  } catch (error) {
    // The old commit is gone (force-push): unknown, so path filters match.
    if (isGitError(error) && error.code === 'COMMIT_NOT_FOUND') return null;
    throw error;
  }
}
