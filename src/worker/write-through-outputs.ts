/**
 * After the outputs are in kiln's artifact store: writes them through to
 * the step's `upload-store`, when it names one. What could not be written
 * becomes a note on the execution (kiln's copy is kept either way).
 */
import type { Step } from '../config/config-model.js';
import type { CollectedOutput } from '../artifacts/collect-outputs.js';
import type { RunRecord } from '../model/run.js';
import type { WorkerDeps } from './worker-deps.js';

export async function writeThroughOutputs(
  deps: Pick<
    WorkerDeps,
    'artifacts' | 'uploadStores' | 'secretsFor' | 'logger'
  >,
  options: {
    step: Pick<Step, 'uploadStore'>;
    run: Pick<RunRecord, 'repository' | 'trusted'>;
    executionId: string;
    files: CollectedOutput[];
  },
): Promise<string[]> {
  const store = options.step.uploadStore;
  if (!store || options.files.length === 0) return [];
  if (!deps.uploadStores) {
    return [
      `upload-store "${store}" is not available on this worker; outputs are only in kiln's artifact store`,
    ];
  }
  const { repository } = options.run;
  const secretsFor = deps.secretsFor;
  const result = await deps.uploadStores.writeThrough({
    store,
    repository,
    executionId: options.executionId,
    files: options.files,
    artifacts: deps.artifacts,
    trusted: options.run.trusted !== false,
    secrets: secretsFor ? () => secretsFor(repository) : undefined,
  });
  if (result.notes.length > 0) {
    deps.logger.warn(
      { executionId: options.executionId, problems: result.notes },
      'outputs not written to the upload store',
    );
  }
  return result.notes;
}
