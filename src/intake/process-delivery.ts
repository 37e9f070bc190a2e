/**
 * Acts on one queued webhook delivery (the intake worker calls this once
 * per job; BullMQ may call it again after a crash, so everything here is
 * idempotent: run ids come from the delivery and the trigger's position).
 * It reads the configuration at the pushed SHA, matches its triggers,
 * creates runs, supersedes older ones, and records what it did in the
 * delivery log. Retryable git failures are thrown for BullMQ to retry;
 * everything else ends as a recorded outcome.
 */
import { decodeConfigText } from '../config/decode-config-text.js';
import type { Finding } from '../config/finding.js';
import { isAbsolute } from 'node:path';
import {
  toTriggerEvent,
  type GitHubTriggerEvent,
} from '../forge/github/to-trigger-event.js';
import { isGitError } from '../git/git-error.js';
import type { RepositorySource } from '../git/repository-source.js';
import { cancelRunsOfRef } from '../control/cancel-run.js';
import { createTriggerRuns } from './create-trigger-runs.js';
import type { DeliveryPatch } from './delivery-log.js';
import { makeOutcome, type DeliveryOutcome } from './delivery-outcome.js';
import type { IntakeDeps } from './intake-deps.js';
import type { IntakeJob } from './intake-queue.js';
import { rerunRequestedRuns } from './rerun-requested-runs.js';

export type { IntakeDeps } from './intake-deps.js';
export type { DeliveryOutcome } from './delivery-outcome.js';

const configFiles = ['kiln.yaml', 'valohai.yaml'] as const;

/**
 * Resolves with what was done (also written to the delivery log under the
 * delivery id). Rejects only for failures worth a retry: a retryable git
 * error (network) or Redis being unavailable.
 */
export async function processDelivery(
  deps: IntakeDeps,
  job: IntakeJob,
): Promise<DeliveryOutcome> {
  let outcome: DeliveryOutcome;
  let details: DeliveryPatch = { event: job.event };
  const payload = parsePayload(job.payload);
  const translated =
    payload === undefined
      ? { rejected: 'payload is not valid JSON' }
      : toTriggerEvent(job.event, payload);
  if ('ignored' in translated) {
    outcome = makeOutcome('ignored', { reason: translated.ignored });
  } else if ('rejected' in translated) {
    outcome = makeOutcome('rejected', { reason: translated.rejected });
  } else {
    details = { ...details, ...describeEvent(translated.event) };
    try {
      outcome = await act(deps, job, translated.event);
    } catch (error) {
      if (!isGitError(error) || error.retryable) throw error;
      outcome = makeOutcome('rejected', { reason: error.message });
    }
  }
  await deps.deliveries.recordDelivery(job.deliveryId, {
    ...details,
    deliveryId: job.deliveryId,
    ...outcome,
  });
  return outcome;
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeEvent(event: GitHubTriggerEvent): DeliveryPatch {
  if (event.kind === 'installation') return { action: event.action };
  if (event.kind === 'rerun') {
    return {
      action: 'rerequested',
      repository: event.repository.fullName,
      sha: event.sha,
    };
  }
  return {
    action: event.kind === 'pull_request' ? event.action : undefined,
    repository: event.repository.fullName,
    ref: event.ref,
    sha: event.sha ?? undefined,
  };
}

async function act(
  deps: IntakeDeps,
  job: IntakeJob,
  event: GitHubTriggerEvent,
): Promise<DeliveryOutcome> {
  if (event.kind === 'installation') {
    return makeOutcome('recorded', {
      reason: `installation ${event.action}${event.account ? ` for ${event.account}` : ''}`,
    });
  }
  if (event.kind === 'rerun') return rerunRequestedRuns(deps, job, event);
  const repository = event.repository.fullName;
  if (event.kind === 'push' && event.deleted) {
    await deps.schedules?.syncPush(event, null);
    const cancelled = await cancelRunsOfRef(deps.control, {
      repository,
      ref: event.ref,
      reason: `cancelled — ${event.refType} ${event.refName} was deleted`,
    });
    return makeOutcome('ignored', {
      reason: `${event.refType} deleted`,
      cancelledRunIds: cancelled,
    });
  }
  if (event.kind === 'pull_request' && event.action === 'closed') {
    const cancelled = await cancelRunsOfRef(deps.control, {
      repository,
      ref: event.ref,
      reason: `cancelled — pull request #${event.number} was closed`,
    });
    return makeOutcome('ignored', {
      reason: 'pull request closed',
      cancelledRunIds: cancelled,
    });
  }
  const refused = checkCloneUrl(
    event.repository.cloneUrl,
    deps.allowLocalRepositories,
    deps.githubOrigin,
  );
  if (refused) return makeOutcome('rejected', { reason: refused });
  const sha = event.sha;
  if (sha === null)
    return makeOutcome('ignored', { reason: 'no commit to run' });
  const source: RepositorySource = {
    id: `github.com/${repository}`,
    url: event.repository.cloneUrl,
  };
  await deps.git.ensureCommit(source, sha);
  const config = await readConfig(deps, source, sha);
  if (event.kind === 'push')
    await deps.schedules?.syncPush(event, { source, commit: sha, config });
  if (!config) {
    return makeOutcome('ignored', {
      reason: `no ${configFiles.join(' or ')} at ${sha.slice(0, 7)}`,
    });
  }
  return createTriggerRuns(deps, { job, event, source, sha, ...config });
}

function checkCloneUrl(
  url: string,
  allowLocal: boolean,
  githubOrigin?: string,
): string | null {
  if (url.startsWith('https://')) return null;
  if (githubOrigin && url.startsWith(`${githubOrigin}/`)) return null;
  if (isAbsolute(url) || url.startsWith('file://')) {
    return allowLocal
      ? null
      : 'clone url is a local repository: set KILN_ALLOW_LOCAL_REPOSITORIES=true to allow local repositories';
  }
  return 'clone url must start with https://';
}

async function readConfig(
  deps: IntakeDeps,
  source: RepositorySource,
  sha: string,
): Promise<{ file: string; text: string; findings: Finding[] } | null> {
  for (const file of configFiles) {
    const content = await deps.git.readFile(source, sha, file, {
      maxBytes: deps.maxConfigBytes ?? 1024 * 1024,
    });
    if (content) return { file, ...decodeConfigText(content, file) };
  }
  return null;
}
