/**
 * Takes a branch's schedules from its kiln.yaml on each push to it: the
 * `trigger` items with a `schedule` whose `branch` is the pushed branch
 * (or, with none, whose repository's default branch is) are added or
 * updated, and the branch's schedules no longer in the file are removed.
 * A file with errors changes nothing (the push's run shows them); a
 * deleted branch, or a push with no kiln.yaml, removes the branch's
 * schedules. A push older than the last one taken is ignored.
 *
 * BullMQ's job scheduler is only touched when a schedule is new or its
 * timing changed: re-planning an unchanged one would drop a tick that is
 * due but not yet taken.
 */
import { loadConfig } from '../config/load-config.js';
import type { Trigger } from '../config/config-model.js';
import type { ScheduleRecord } from '../model/schedule.js';
import { nowIso } from './control-deps.js';
import type { ScheduleDeps } from './schedule-deps.js';
import { scheduleIdFor } from './schedule-id.js';

/** The facts of a push that schedules depend on (a forge's push event has them). */
export interface PushFacts {
  repository: { fullName: string; defaultBranch?: string };
  refType: 'branch' | 'tag';
  /** The branch, without `refs/heads/`. */
  refName: string;
  /** When the push happened (ms); absent: now. */
  pushedAt?: number;
  installationId?: number;
}

/** The pushed commit and its configuration file (null: the file is gone). */
export interface PushedConfig {
  source: { id: string; url: string };
  commit: string;
  config: { file: string; text: string } | null;
}

export interface SyncOutcome {
  added: string[];
  changed: string[];
  removed: string[];
  /** Why nothing was changed, when nothing was. */
  ignored?: string;
}

export async function syncSchedules(
  deps: Pick<ScheduleDeps, 'schedules' | 'queue' | 'control'>,
  push: PushFacts,
  /** Null when the branch was deleted. */
  pushed: PushedConfig | null,
): Promise<SyncOutcome> {
  const outcome: SyncOutcome = { added: [], changed: [], removed: [] };
  if (push.refType !== 'branch') return outcome;
  const repository = push.repository.fullName;
  const branch = push.refName;
  let wanted: Trigger[] = [];
  if (pushed?.config) {
    const loaded = loadConfig(pushed.config.text, {
      file: pushed.config.file,
    });
    if (!loaded.valid) {
      return {
        ...outcome,
        ignored: `${pushed.config.file} has errors: schedules unchanged`,
      };
    }
    const byName = new Map<string, Trigger>();
    for (const trigger of loaded.config.triggers) {
      const target = trigger.schedule?.branch ?? push.repository.defaultBranch;
      if (trigger.schedule && target === branch)
        byName.set(trigger.name, trigger);
    }
    wanted = [...byName.values()];
  }
  const claimed = await deps.schedules.claimSync({
    repository,
    branch,
    pushedAt: push.pushedAt ?? Date.now(),
  });
  if (!claimed) {
    return {
      ...outcome,
      ignored: 'a later push to the branch already set its schedules',
    };
  }

  const existing = new Map(
    (await deps.schedules.list({ repository, branch })).map((record) => [
      record.id,
      record,
    ]),
  );
  for (const trigger of wanted) {
    const schedule = trigger.schedule;
    if (!schedule || !pushed?.config) continue;
    const id = scheduleIdFor({ repository, branch, trigger: trigger.name });
    const record: ScheduleRecord = {
      id,
      repository,
      branch,
      trigger: trigger.name,
      run: trigger.run,
      parameters: trigger.parameters,
      cron: schedule.cron,
      timezone: schedule.timezone,
      missed: schedule.missed,
      source: pushed.source,
      commit: pushed.commit,
      configFile: pushed.config.file,
      updatedAt: nowIso(deps.control),
      ...(push.installationId !== undefined
        ? { installationId: push.installationId }
        : {}),
    };
    const previous = existing.get(id);
    existing.delete(id);
    // The record first: a tick due at once finds it.
    await deps.schedules.put(record);
    const planned = await deps.queue.timing(id);
    if (planned?.cron !== record.cron || planned.timezone !== record.timezone) {
      await deps.queue.upsert(record);
    }
    if (!previous) outcome.added.push(trigger.name);
    else if (changed(previous, record)) outcome.changed.push(trigger.name);
  }
  for (const record of existing.values()) {
    await deps.queue.remove(record.id);
    await deps.schedules.remove(record.id);
    outcome.removed.push(record.trigger);
  }
  return outcome;
}

function changed(before: ScheduleRecord, after: ScheduleRecord): boolean {
  const fields = (record: ScheduleRecord) =>
    JSON.stringify([
      record.run,
      record.parameters,
      record.cron,
      record.timezone,
      record.missed,
    ]);
  return fields(before) !== fields(after);
}

/** `syncSchedules` bound to its dependencies, logging what changed (for intake). */
export function createScheduleSync(
  deps: Pick<ScheduleDeps, 'schedules' | 'queue' | 'control'>,
): {
  syncPush(push: PushFacts, pushed: PushedConfig | null): Promise<SyncOutcome>;
} {
  return {
    async syncPush(push, pushed) {
      const outcome = await syncSchedules(deps, push, pushed);
      const { added, changed, removed, ignored } = outcome;
      if (added.length + changed.length + removed.length > 0 || ignored) {
        deps.control.logger.info(
          {
            repository: push.repository.fullName,
            branch: push.refName,
            added,
            changed,
            removed,
            ignored,
          },
          'schedules synced from a push',
        );
      }
      return outcome;
    },
  };
}
