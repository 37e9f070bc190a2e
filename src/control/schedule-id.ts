import { createHash } from 'node:crypto';

/**
 * A schedule's id — also its BullMQ job scheduler's — from what names it:
 * the trigger's name in one branch's kiln.yaml of one repository.
 */
export function scheduleIdFor(options: {
  repository: string;
  branch: string;
  trigger: string;
}): string {
  return `s${digest(`${options.repository}\n${options.branch}\n${options.trigger}`)}`;
}

/** The run of one tick: a retried or re-delivered tick finds its run. */
export function scheduledRunIdFor(scheduleId: string, tickAt: number): string {
  return `t${digest(`${scheduleId}\n${tickAt}`)}`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}
