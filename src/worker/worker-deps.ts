import type { StepPolicy } from '../orchestrator/find-step-policy-problem.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { InputFetcher } from '../artifacts/input-fetcher.js';
import type { UploadStores } from '../artifacts/upload-stores.js';
import type { ControlDeps } from '../control/control-deps.js';
import type { GitMaterialiser } from '../git/git-materialiser.js';
import type { Runtime } from '../runtime/runtime.js';
import type { AttemptBeats } from '../store/attempt-beats.js';
import type { StopWatcher } from '../store/stop-watcher.js';

/**
 * What a worker needs beyond the control plane: where code comes from,
 * where steps run, where outputs go, and how it hears that a step must
 * stop. Built by the composition root (`kiln worker`, `kiln up`,
 * `kiln run`).
 */
export interface WorkerDeps extends ControlDeps {
  git: GitMaterialiser;
  runtime: Runtime;
  artifacts: ArtifactStore;
  /** Stop requests for the executions this process holds. */
  stops: StopWatcher;
  /** Scratch space for executions (inputs, outputs, config files). */
  workDir: string;
  host: string;
  workerId: string;
  /** Secrets of a repository, for trusted runs only. */
  secretsFor?: (repository: string) => Promise<Record<string, string>>;
  /**
   * How often a running step re-reads its node, in case a stop request was
   * missed (the control stream is the fast path). @defaultValue 10000
   */
  stopCheckMs?: number;
  /**
   * Fetches URL inputs (https, s3) under the operator's policy, through the
   * worker's cache. Absent: public https only, no cache between executions.
   */
  inputFetcher?: InputFetcher;
  /** Writes outputs through to a step's `upload-store`. Absent: not written. */
  uploadStores?: UploadStores;
  /**
   * Heartbeats of the attempts workers hold: a job handed out again after
   * its lock lapsed is taken over only once its attempt stopped beating.
   * Absent: every such job is a takeover at once.
   */
  beats?: AttemptBeats;
  /** Per-execution limits the operator sets (settings). Absent: none. */
  stepLimits?: StepLimits;
  /** What repository YAML may ask for (settings). Absent: anything. */
  stepPolicy?: StepPolicy;
}

export interface StepLimits {
  /** Bytes of a step's outputs in all (KILN_STEP_OUTPUT_LIMIT_BYTES). */
  outputBytes?: number;
  /** Bytes a step may write to its root filesystem (KILN_STEP_ROOTFS_LIMIT_BYTES). */
  rootfsBytes?: number;
  /** Time limit of steps that set none (KILN_STEP_TIME_LIMIT). */
  defaultTimeLimitMs?: number;
}
