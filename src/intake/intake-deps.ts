import type { Logger } from 'pino';
import type { GitMaterialiser } from '../git/git-materialiser.js';
import type { ControlDeps } from '../control/control-deps.js';
import type { PushFacts, PushedConfig } from '../control/sync-schedules.js';
import type { EventTimes } from '../store/event-times.js';
import type { DeliveryLog } from './delivery-log.js';

/**
 * What processing a delivery needs: the control plane (to create and cancel
 * runs), git (to read the configuration at the pushed commit) and the
 * delivery log. Built by `startIntakeWorker` from the engine, or by tests.
 */
export interface IntakeDeps {
  control: ControlDeps;
  eventTimes: EventTimes;
  git: Pick<GitMaterialiser, 'ensureCommit' | 'readFile' | 'changedPaths'>;
  deliveries: DeliveryLog;
  /** Takes a branch's schedules from each push to it (absent: schedules are not kept). */
  schedules?: {
    syncPush(push: PushFacts, pushed: PushedConfig | null): Promise<unknown>;
  };
  /** Accept absolute paths and file:// clone URLs (KILN_ALLOW_LOCAL_REPOSITORIES). */
  allowLocalRepositories: boolean;
  /** GitHub's git origin (KILN_GITHUB_API_URL's): its clone URLs are accepted even over http. */
  githubOrigin?: string;
  /** Largest configuration file read. @defaultValue 1 MiB */
  maxConfigBytes?: number;
  logger?: Logger;
}
