/**
 * Acts on one queued webhook delivery (the intake worker calls this once
 * per job; BullMQ may call it again after a crash, so everything here is
 * idempotent: run ids come from the delivery and the trigger's position).
 * It reads the configuration at the pushed SHA, matches its triggers,
 * creates runs, supersedes older ones, and records what it did in the
 * delivery log. Retryable git failures are thrown for BullMQ to retry;
 * everything else ends as a recorded outcome.
 */
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load-config.js';
import {
  toTriggerEvent,
  type GitHubTriggerEvent,
  type PullRequestTriggerEvent,
  type PushTriggerEvent,
} from '../forge/github/to-trigger-event.js';
import type { GitMaterialiser } from '../git/git-materialiser.js';
import { isGitError } from '../git/git-error.js';
import type { RepositorySource } from '../git/repository-source.js';
import { createRun } from '../orchestrator/create-run.js';
import type { OrchestratorDeps } from '../orchestrator/orchestrator-deps.js';
import { cancelRunsOfRef } from './cancel-run.js';
import type { DeliveryLog, DeliveryPatch } from './delivery-log.js';
import type { IntakeJob } from './intake-queue.js';
import { matchTriggers, needsChangedPaths } from './match-triggers.js';
import { recordEventTime, supersedeRuns } from './supersede-runs.js';

export interface IntakeDeps {
  orchestrator: OrchestratorDeps;
  git: Pick<GitMaterialiser, 'ensureCommit' | 'readFile' | 'changedPaths'>;
  deliveries: DeliveryLog;
  /** Accept absolute paths and file:// clone URLs (KILN_ALLOW_LOCAL_REPOSITORIES). */
  allowLocalRepositories: boolean;
  /** Largest configuration file read. @defaultValue 1 MiB */
  maxConfigBytes?: number;
  logger?: Logger;
}

export type DeliveryOutcome = Required<
  Pick<DeliveryPatch, 'status' | 'runIds' | 'cancelledRunIds'>
> & { reason?: string };

const configFiles = ['kiln.yaml', 'valohai.yaml'] as const;

export async function processDelivery(
  deps: IntakeDeps,
  job: IntakeJob,
): Promise<DeliveryOutcome> {
  let outcome: DeliveryOutcome;
  let details: DeliveryPatch = { event: job.event };
  try {
    const payload: unknown = JSON.parse(job.payload);
    const translated = toTriggerEvent(job.event, payload);
    if ('ignored' in translated) {
      outcome = finished('ignored', translated.ignored);
    } else if ('rejected' in translated) {
      outcome = finished('rejected', translated.rejected);
    } else {
      details = { ...details, ...describeEvent(translated.event) };
      outcome = await act(deps, job, translated.event);
    }
  } catch (error) {
    if (isGitError(error) && !error.retryable) {
      outcome = finished('rejected', error.message);
    } else if (error instanceof SyntaxError) {
      outcome = finished('rejected', 'payload is not valid JSON');
    } else {
      throw error;
    }
  }
  await deps.deliveries.recordDelivery(job.deliveryId, {
    ...details,
    deliveryId: job.deliveryId,
    ...outcome,
  });
  return outcome;
}

function finished(
  status: DeliveryOutcome['status'],
  reason?: string,
  runs: { runIds?: string[]; cancelledRunIds?: string[] } = {},
): DeliveryOutcome {
  return {
    status,
    reason,
    runIds: runs.runIds ?? [],
    cancelledRunIds: runs.cancelledRunIds ?? [],
  };
}

function describeEvent(event: GitHubTriggerEvent): DeliveryPatch {
  if (event.kind === 'installation') return { action: event.action };
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
    return finished(
      'recorded',
      `installation ${event.action}${event.account ? ` for ${event.account}` : ''}`,
    );
  }
  const repository = event.repository.fullName;
  if (event.kind === 'push' && event.deleted) {
    const cancelled = await cancelRunsOfRef(deps.orchestrator, {
      repository,
      ref: event.ref,
      reason: `cancelled — ${event.refType} ${event.refName} was deleted`,
    });
    return finished('ignored', `${event.refType} deleted`, {
      cancelledRunIds: cancelled,
    });
  }
  if (event.kind === 'pull_request' && event.action === 'closed') {
    const cancelled = await cancelRunsOfRef(deps.orchestrator, {
      repository,
      ref: event.ref,
      reason: `cancelled — pull request #${event.number} was closed`,
    });
    return finished('ignored', 'pull request closed', {
      cancelledRunIds: cancelled,
    });
  }
  const refused = checkCloneUrl(
    event.repository.cloneUrl,
    deps.allowLocalRepositories,
  );
  if (refused) return finished('rejected', refused);
  const sha = event.sha;
  if (sha === null) return finished('ignored', 'no commit to run');
  const source: RepositorySource = {
    id: `github.com/${repository}`,
    url: event.repository.cloneUrl,
  };
  await deps.git.ensureCommit(source, sha);
  const config = await readConfig(deps, source, sha);
  if (!config) {
    return finished(
      'ignored',
      `no ${configFiles.join(' or ')} at ${sha.slice(0, 7)}`,
    );
  }
  return createRuns(deps, { job, event, source, sha, ...config });
}

interface CreateRunsInput {
  job: IntakeJob;
  event: PushTriggerEvent | PullRequestTriggerEvent;
  source: RepositorySource;
  sha: string;
  file: string;
  text: string;
}

async function createRuns(
  deps: IntakeDeps,
  input: CreateRunsInput,
): Promise<DeliveryOutcome> {
  const { event, source, sha, file, text, job } = input;
  const kind = event.kind;
  const loaded = loadConfig(text, { file });
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
    },
    trusted: !(kind === 'pull_request' && event.fork),
    requireApproval:
      kind === 'pull_request' && event.fork
        ? `waiting for approval: pull request from fork ${event.headRepository} by @${event.author ?? event.sender ?? 'unknown'} — a collaborator with write access must approve it`
        : undefined,
  };
  if (!loaded.valid) {
    // One failed run carries the findings, so the problem shows where runs do.
    const run = await createRun(deps.orchestrator, {
      ...common,
      name: loaded.config.triggers[0]?.run || file,
      id: runIdFor(job.deliveryId, 'config'),
    });
    return finished('runs-created', `${file} is not valid`, {
      runIds: [run.id],
    });
  }
  const triggers = loaded.config.triggers;
  if (!triggers.some((trigger) => trigger.on.includes(kind))) {
    return finished('ignored', `${file} has no trigger for ${kind}`);
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
    return finished(
      'ignored',
      `no trigger in ${file} matches ${kind} to ${refType} ${refName}`,
    );
  }
  const eventTime =
    (kind === 'push' ? event.pushedAt : event.updatedAt) ?? Date.now();
  const runIds: string[] = [];
  const cancelled: string[] = [];
  for (const { trigger, index } of matches) {
    const id = runIdFor(job.deliveryId, String(index));
    await recordEventTime(deps.orchestrator.redis, {
      prefix: deps.orchestrator.prefix,
      runId: id,
      eventTime,
    });
    const run = await createRun(deps.orchestrator, {
      ...common,
      id,
      name: trigger.run,
      parameters: trigger.parameters,
    });
    runIds.push(run.id);
    if (trigger.cancelSuperseded && run.status !== 'error') {
      const result = await supersedeRuns(deps.orchestrator, run);
      cancelled.push(...result.cancelled);
    }
  }
  return finished('runs-created', undefined, {
    runIds,
    cancelledRunIds: cancelled,
  });
}

/** Deterministic per (delivery, trigger): a re-processed job finds its runs. */
export function runIdFor(deliveryId: string, part: string): string {
  const digest = createHash('sha256')
    .update(`${deliveryId}\n${part}`)
    .digest('hex');
  return `g${digest.slice(0, 24)}`;
}

function checkCloneUrl(url: string, allowLocal: boolean): string | null {
  if (url.startsWith('https://')) return null;
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
): Promise<{ file: string; text: string } | null> {
  for (const file of configFiles) {
    const content = await deps.git.readFile(source, sha, file, {
      maxBytes: deps.maxConfigBytes ?? 1024 * 1024,
    });
    if (content) return { file, text: content.toString('utf8') };
  }
  return null;
}

async function changedPathsOrNull(
  deps: IntakeDeps,
  options: { source: RepositorySource; before: string | null; head: string },
): Promise<string[] | null> {
  if (options.before === null) return null;
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
