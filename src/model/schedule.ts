/**
 * Schedules: `trigger` items with a `schedule`, taken from a branch's
 * kiln.yaml on each push to it, and what each of their ticks did.
 */
import type { MissedTicks } from '../config/config-model.js';

export interface ScheduleRecord {
  /** Made from (repository, branch, trigger name); also the BullMQ job scheduler's id. */
  id: string;
  repository: string;
  /** The branch whose head each tick runs. */
  branch: string;
  /** The trigger's name. */
  trigger: string;
  /** Pipeline or step, as of the last push (a tick reads it again at the branch head). */
  run: string;
  parameters: Record<string, unknown>;
  cron: string;
  timezone: string;
  missed: MissedTicks;
  /** Where the code comes from (the clone URL a push gave). */
  source: { id: string; url: string };
  /** The commit and file the definition was taken from, and when. */
  commit: string;
  configFile: string;
  updatedAt: string;
  installationId?: number;
}

/**
 * `pending`: decided, not done yet (a tick being handled, or one whose
 * handler died and will be retried). `run`: a run was started. `missed`:
 * no kiln was running across the tick and the policy is `skip`. `skipped`:
 * nothing to run (the trigger is gone from the branch head). `failed`: the
 * branch or its file could not be read.
 */
export type ScheduleTickOutcome =
  'pending' | 'run' | 'missed' | 'skipped' | 'failed';

export interface ScheduleTick {
  /** The tick (ISO): the time the cron expression gave, not when it was handled. */
  at: string;
  outcome: ScheduleTickOutcome;
  runId?: string;
  commit?: string;
  reason?: string;
  /**
   * Ticks that passed while no kiln server was running, this one first
   * (set only when it was handled after the next tick was due). With
   * `run-once` the one run stands for all of them.
   */
  missed?: { count: number; first: string; last: string };
  /** When kiln handled the tick. */
  handledAt: string;
}

/** A schedule as listed: its next tick (from BullMQ) and its latest ticks. */
export interface ScheduleView extends ScheduleRecord {
  /** Null when no tick is planned (the job scheduler is gone). */
  nextTickAt: string | null;
  /** Newest first. */
  ticks: ScheduleTick[];
}
