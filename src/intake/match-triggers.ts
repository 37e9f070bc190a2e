/**
 * Which `trigger` items of a configuration an event starts. Pure.
 *
 * - `on` filters the event (`push` or `pull_request`).
 * - `branches` globs match the pushed branch, or for a pull request the base
 *   branch it targets (as GitHub Actions does). An empty list matches every
 *   branch. Tags only match globs written as `refs/tags/<glob>`, so pushing
 *   a tag does not re-run every branch pipeline.
 * - `paths` globs match the changed paths; an empty list matches any change.
 *   `changedPaths` null means "unknown" (a new branch, or a base commit that
 *   is gone after a force-push): path filters then count as matched, since
 *   running too much is safer than silently running nothing.
 */
import type { Trigger, TriggerEvent } from '../config/config-model.js';
import { matchGlob } from '../config/match-glob.js';

export interface TriggerMatchInput {
  triggers: readonly Trigger[];
  event: TriggerEvent;
  refType: 'branch' | 'tag';
  /** Branch (or tag) name, without `refs/heads/` or `refs/tags/`. */
  refName: string;
  changedPaths: readonly string[] | null;
}

export interface TriggerMatch {
  trigger: Trigger;
  /** Position among the configuration's triggers (stable run ids). */
  index: number;
}

export function matchTriggers(input: TriggerMatchInput): TriggerMatch[] {
  const matches: TriggerMatch[] = [];
  input.triggers.forEach((trigger, index) => {
    if (!trigger.on.includes(input.event)) return;
    if (!matchesRef(trigger.branches, input.refType, input.refName)) return;
    if (!matchesPaths(trigger.paths, input.changedPaths)) return;
    matches.push({ trigger, index });
  });
  return matches;
}

/** Whether any trigger would need the changed paths (to skip a git diff). */
export function needsChangedPaths(
  triggers: readonly Trigger[],
  event: TriggerEvent,
): boolean {
  return triggers.some(
    (trigger) => trigger.on.includes(event) && trigger.paths.length > 0,
  );
}

function matchesRef(
  globs: readonly string[],
  refType: 'branch' | 'tag',
  refName: string,
): boolean {
  if (refType === 'tag') {
    const full = `refs/tags/${refName}`;
    return globs.some(
      (glob) => glob.startsWith('refs/tags/') && matchGlob(glob, full),
    );
  }
  if (globs.length === 0) return true;
  return globs.some(
    (glob) => !glob.startsWith('refs/tags/') && matchGlob(glob, refName),
  );
}

function matchesPaths(
  globs: readonly string[],
  changedPaths: readonly string[] | null,
): boolean {
  if (globs.length === 0 || changedPaths === null) return true;
  return changedPaths.some((path) =>
    globs.some((glob) => matchGlob(glob, path)),
  );
}
