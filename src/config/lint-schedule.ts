/**
 * Checks a `trigger`'s `schedule`: a cron expression and a time zone kiln
 * can tick on, a branch name, and no event keys beside it (a schedule runs
 * on its clock only, so `on`, `branches`, `paths` and `cancel-superseded`
 * would be silently ignored).
 */
import {
  describeCronProblem,
  describeTimeZoneProblem,
} from './cron-schedule.js';
import { isMapping, quoteName } from './describe-value.js';
import { addError } from './finding-sink.js';
import type { FindingSink } from './finding-sink.js';
import type { PathSegment } from './yaml-document.js';

const eventKeys: Record<string, string> = {
  on: 'a schedule runs on its clock, not on pushes or pull requests: put those in a trigger of their own',
  branches:
    'a schedule runs one branch: name it with "branch" inside "schedule"',
  paths: 'a schedule runs whatever changed: leave "paths" out',
  'cancel-superseded': 'a scheduled run never cancels other runs',
};

// A branch name as written in a push: no `refs/` prefix, no option-like or
// `..` names (git's own rules are checked again before any git call).
const branchPattern = /^(?!-)(?!refs\/)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$/;

export function lintSchedule(
  sink: FindingSink,
  options: { raw: Record<string, unknown>; path: PathSegment[] },
): void {
  const { raw, path } = options;
  const schedule = raw.schedule;
  if (!isMapping(schedule)) return;
  const owner = `trigger ${quoteName(typeof raw.name === 'string' ? raw.name : '')}`;
  for (const [key, why] of Object.entries(eventKeys)) {
    if (raw[key] !== undefined) {
      addError(sink, [...path, key], `"${key}" of ${owner}: ${why}`);
    }
  }
  const at = [...path, 'schedule'];
  if (typeof schedule.cron === 'string') {
    const problem = describeCronProblem(schedule.cron);
    if (problem)
      addError(sink, [...at, 'cron'], `schedule of ${owner}: ${problem}`);
  }
  if (typeof schedule.timezone === 'string') {
    const problem = describeTimeZoneProblem(schedule.timezone);
    if (problem)
      addError(sink, [...at, 'timezone'], `schedule of ${owner}: ${problem}`);
  }
  if (
    typeof schedule.branch === 'string' &&
    !branchPattern.test(schedule.branch)
  ) {
    addError(
      sink,
      [...at, 'branch'],
      `schedule of ${owner}: ${JSON.stringify(schedule.branch)} is not a branch name (write it as in "git push origin NAME", without refs/heads/)`,
    );
  }
}
