import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { GitMaterialiser } from '../git/git-materialiser.js';
import type { ControlDeps } from '../control/control-deps.js';
import type { CommitHistory } from '../control/find-base-run.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { RunEventFeed } from '../store/index.js';
import type { Settings } from '../settings.js';
import type { KilnMetrics } from '../telemetry/create-kiln-metrics.js';

/**
 * What the HTTP server needs. The server never runs containers: it creates
 * runs and reads records; workers do the rest.
 */
export interface ServerDeps {
  settings: Settings;
  logger: Logger;
  /** Fails fast when Redis is down (no offline queue): the server answers 503. */
  redis: Redis;
  /** Every Redis key and queue of this kiln. */
  keys: RedisKeys;
  /** Runs and executions, and the changes the API makes to runs. */
  control: ControlDeps;
  /** Runs and logs as they happen, for live pages (absent: pages load once). */
  feed?: RunEventFeed;
  /** For `/readyz`: extra checks (e.g. the Docker engine in `kiln up`). */
  readinessChecks?: Array<{ name: string; check: () => Promise<boolean> }>;
  /** Reads the configuration at a commit for API launches (absent: 503). */
  git?: Pick<
    GitMaterialiser,
    | 'ensureCommit'
    | 'readFile'
    | 'resolveRef'
    | 'isOnBranchOrTag'
    | 'describeCommits'
  >;
  /** Commit history for a pull request's base run (absent: by dates). */
  history?: CommitHistory;
  /** Serves output downloads (absent: 503). */
  artifacts?: ArtifactStore;
  /** Shared with the worker in `kiln up`; the /metrics route makes one otherwise. */
  metrics?: KilnMetrics;
  /**
   * Whether a GitHub login is a collaborator with write access (set when
   * GitHub is configured). Without it, approving a held fork run rests on
   * the admin token alone.
   */
  isCollaborator?: (repository: string, login: string) => Promise<boolean>;
}
