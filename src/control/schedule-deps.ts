import type { GitMaterialiser } from '../git/git-materialiser.js';
import type { ScheduleQueue } from '../queue/schedule-queue.js';
import type { ScheduleStore } from '../store/schedule-store.js';
import type { ControlDeps } from './control-deps.js';

/**
 * What schedules need: their records, BullMQ's job schedulers (timing),
 * git (the branch head at tick time, the file at that commit) and the
 * control plane (to create runs). Built by the composition root.
 */
export interface ScheduleDeps {
  control: ControlDeps;
  schedules: ScheduleStore;
  queue: Pick<ScheduleQueue, 'upsert' | 'remove' | 'timing'>;
  git: Pick<GitMaterialiser, 'resolveRef' | 'ensureCommit' | 'readFile'>;
}
