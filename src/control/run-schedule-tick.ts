/**
 * Handles one tick of a schedule (the schedule worker calls this once per
 * tick job; BullMQ may call it again after a crash or a failure).
 *
 * 1. Decide once: a tick handled before the next one is due is on time
 *    and runs. One handled later was due while no kiln server ran: with
 *    `missed: run-once` it runs (once, for all the ticks that passed),
 *    with `skip` it is recorded as missed. The decision is stored before
 *    anything else, and a repeat call follows the stored one.
 * 2. Run: the branch head now (`git ls-remote`), kiln.yaml at that commit,
 *    the trigger as that file has it, one run pinned to the commit, with
 *    an id made of the schedule and the tick (so a repeat finds it) and
 *    the trust a schedule gets.
 *
 * Resolves with the tick's record. Rejects only for what a retry may fix
 * (a git server not answering, Redis down).
 */
import { loadConfig } from '../config/load-config.js';
import { nextTick, ticksBetween } from '../config/cron-schedule.js';
import { isGitError } from '../git/git-error.js';
import type { ScheduleRecord, ScheduleTick } from '../model/schedule.js';
import { decideTrust } from '../orchestrator/decide-trust.js';
import { createRun } from './create-run.js';
import type { ScheduleDeps } from './schedule-deps.js';
import { scheduledRunIdFor } from './schedule-id.js';

export interface TickInput {
  scheduleId: string;
  /** The tick time (ms) BullMQ planned the job for. */
  tickAt: number;
  /** When a worker took the job (ms). */
  takenAt: number;
}

const configFiles = ['kiln.yaml', 'valohai.yaml'] as const;

export async function runScheduleTick(
  deps: ScheduleDeps,
  input: TickInput,
): Promise<ScheduleTick> {
  const at = new Date(input.tickAt).toISOString();
  const schedule = await deps.schedules.get(input.scheduleId);
  if (!schedule) {
    // Removed while its job waited (or a sync died half-way): no more ticks.
    await deps.queue.remove(input.scheduleId);
    return {
      at,
      outcome: 'skipped',
      reason: 'the schedule was removed',
      handledAt: new Date(input.takenAt).toISOString(),
    };
  }
  const tick = await deps.schedules.decideTick(
    schedule.id,
    decideTick(schedule, input),
  );
  if (tick.outcome !== 'pending') return tick;
  const done = await startRun(deps, schedule, tick, input.tickAt);
  // A schedule removed meanwhile keeps no tick history.
  if (await deps.schedules.get(schedule.id))
    await deps.schedules.recordTick(schedule.id, done);
  return done;
}

/** Step 1, pure: on time, or late and what the policy says. */
export function decideTick(
  schedule: Pick<ScheduleRecord, 'cron' | 'timezone' | 'missed'>,
  input: Pick<TickInput, 'tickAt' | 'takenAt'>,
): ScheduleTick {
  const at = new Date(input.tickAt).toISOString();
  const handledAt = new Date(input.takenAt).toISOString();
  const following = nextTick(schedule, input.tickAt);
  if (following === null || input.takenAt < following) {
    return { at, outcome: 'pending', handledAt };
  }
  const later = ticksBetween(schedule, input.tickAt, input.takenAt);
  const missed = {
    count: later.count + 1,
    first: at,
    last: new Date(later.last ?? input.tickAt).toISOString(),
  };
  return schedule.missed === 'skip'
    ? {
        at,
        outcome: 'missed',
        missed,
        reason: 'no kiln server was running at these ticks (missed: skip)',
        handledAt,
      }
    : { at, outcome: 'pending', missed, handledAt };
}

/** Step 2: the branch head's run, or why there is none. */
async function startRun(
  deps: ScheduleDeps,
  schedule: ScheduleRecord,
  tick: ScheduleTick,
  tickAt: number,
): Promise<ScheduleTick> {
  const fail = (reason: string): ScheduleTick => ({
    ...tick,
    outcome: 'failed',
    reason,
  });
  let head;
  try {
    head = await deps.git.resolveRef(schedule.source, schedule.branch);
  } catch (error) {
    if (isGitError(error) && !error.retryable) return fail(error.message);
    throw error;
  }
  if (!head?.ref.startsWith('refs/heads/')) {
    return fail(
      `there is no branch ${schedule.branch} in ${schedule.repository}`,
    );
  }
  const commit = head.sha;
  let config: { file: string; text: string } | null;
  try {
    await deps.git.ensureCommit(schedule.source, commit);
    config = await readConfig(deps, schedule, commit);
  } catch (error) {
    if (isGitError(error) && !error.retryable) return fail(error.message);
    throw error;
  }
  if (!config) {
    return {
      ...fail(`no ${configFiles.join(' or ')} at ${commit.slice(0, 12)}`),
      commit,
    };
  }
  const loaded = loadConfig(config.text, { file: config.file });
  const trigger = loaded.config.triggers.findLast(
    (item) => item.name === schedule.trigger && item.schedule,
  );
  if (loaded.valid && !trigger) {
    return {
      ...tick,
      outcome: 'skipped',
      commit,
      reason: `trigger "${schedule.trigger}" is no longer in ${config.file} at ${commit.slice(0, 12)}`,
    };
  }
  // An invalid file still makes a run: it fails with the findings, where
  // runs are looked at, as a push's would.
  const trust = decideTrust({ how: 'schedule' });
  const run = await createRun(deps.control, {
    id: scheduledRunIdFor(schedule.id, tickAt),
    repository: schedule.repository,
    source: schedule.source,
    commit,
    ref: head.ref,
    name: trigger?.run ?? schedule.run,
    parameters: trigger?.parameters ?? schedule.parameters,
    configText: config.text,
    configFile: config.file,
    trigger: {
      event: 'schedule',
      schedule: schedule.id,
      tickAt: tick.at,
      sender: `schedule ${schedule.trigger}`,
      ...(schedule.installationId !== undefined
        ? { installationId: schedule.installationId }
        : {}),
    },
    trusted: trust.trusted,
    requireApproval: trust.hold,
  });
  return { ...tick, outcome: 'run', runId: run.id, commit };
}

async function readConfig(
  deps: ScheduleDeps,
  schedule: ScheduleRecord,
  commit: string,
): Promise<{ file: string; text: string } | null> {
  for (const file of configFiles) {
    const content = await deps.git.readFile(schedule.source, commit, file, {
      maxBytes: 1024 * 1024,
    });
    if (content) return { file, text: content.toString('utf8') };
  }
  return null;
}
