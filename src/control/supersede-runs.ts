/**
 * A newer push to a branch (or a new head on a pull request) replaces the
 * older unfinished runs of the same pipeline: same repository, ref and
 * pipeline name. Only the newest stays; the others end `cancelled —
 * superseded by <short sha>` with `supersededBy` set.
 *
 * "Newer" is decided by the time GitHub put in the payload (the push time
 * `repository.pushed_at`, else the head commit time; `updated_at` for a
 * pull request), stored per run when it is created, then by creation time,
 * then by id. This is a total order, so two intake jobs racing on one
 * branch agree on which run survives, and a push delivered late never
 * cancels a newer run: it is the late one that ends superseded.
 * Limits: GitHub's times have one-second resolution, so two pushes in the
 * same second are ordered by arrival.
 */
import type { RunRecord } from '../model/run.js';
import { applyRunEvent } from './apply-run-event.js';
import type { EventTimes } from '../store/event-times.js';
import type { ControlDeps } from './control-deps.js';

export interface SupersedeResult {
  /** Runs this call cancelled (possibly `run` itself). */
  cancelled: string[];
  /** The run that stays. */
  newest: string;
}

/**
 * Cancels all but the newest unfinished run of `run`'s pipeline on its
 * ref. Runs created by the same delivery never supersede each other (two
 * triggers may start the same pipeline with different parameters).
 */
export async function supersedeRuns(
  deps: ControlDeps & { eventTimes: EventTimes },
  run: RunRecord,
): Promise<SupersedeResult> {
  if (!run.ref) return { cancelled: [], newest: run.id };
  const active = await deps.runs.activeRunsFor(
    run.repository,
    run.ref,
    run.name,
  );
  const deliveryId = run.trigger?.deliveryId;
  const group = active.filter(
    (other) =>
      other.id === run.id ||
      deliveryId === undefined ||
      other.trigger?.deliveryId !== deliveryId,
  );
  if (!group.some((other) => other.id === run.id)) group.push(run);
  if (group.length < 2) return { cancelled: [], newest: run.id };

  const times = await deps.eventTimes.times(group.map((other) => other.id));
  const ordered = group
    .map((other, index) => ({ run: other, time: Number(times[index] ?? 0) }))
    .sort(compareAge);
  const newest = ordered[ordered.length - 1]?.run ?? run;
  const cancelled: string[] = [];
  for (const { run: older } of ordered.slice(0, -1)) {
    const done = await applyRunEvent(deps, {
      runId: older.id,
      event: {
        type: 'superseded',
        reason: `cancelled — superseded by ${newest.commit.slice(0, 7)}`,
        by: newest.id,
      },
    });
    if (done.applied) cancelled.push(older.id);
  }
  return { cancelled, newest: newest.id };
}

function compareAge(
  a: { run: RunRecord; time: number },
  b: { run: RunRecord; time: number },
): number {
  const at = Number.isFinite(a.time) ? a.time : 0;
  const bt = Number.isFinite(b.time) ? b.time : 0;
  if (at !== bt) return at - bt;
  if (a.run.createdAt !== b.run.createdAt) {
    return a.run.createdAt < b.run.createdAt ? -1 : 1;
  }
  return a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0;
}
