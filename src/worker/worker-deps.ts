import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { InputFetcher } from '../artifacts/input-fetcher.js';
import type { UploadStores } from '../artifacts/upload-stores.js';
import type { GitMaterialiser } from '../git/git-materialiser.js';
import type { OrchestratorDeps } from '../orchestrator/orchestrator-deps.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * What a worker needs beyond the orchestrator: where code comes from, where
 * steps run, where outputs go. Built by the composition root (`kiln worker`,
 * `kiln up`, `kiln run`).
 */
export interface WorkerDeps extends OrchestratorDeps {
  git: GitMaterialiser;
  runtime: Runtime;
  artifacts: ArtifactStore;
  /** Scratch space for executions (inputs, outputs, config files). */
  workDir: string;
  host: string;
  workerId: string;
  /** Secrets of a repository, for trusted runs only. */
  secretsFor?: (repository: string) => Promise<Record<string, string>>;
  /** How often a running step checks whether it was cancelled. @defaultValue 1000 */
  cancelPollMs?: number;
  /**
   * Fetches URL inputs (https, s3) under the operator's policy, through the
   * worker's cache. Absent: public https only, no cache between executions.
   */
  inputFetcher?: InputFetcher;
  /** Writes outputs through to a step's `upload-store`. Absent: not written. */
  uploadStores?: UploadStores;
}
