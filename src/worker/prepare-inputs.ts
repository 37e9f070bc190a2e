/**
 * Puts a step's inputs in place before it starts: `http(s)://` URLs are
 * downloaded, `datum://ID` resolves an output of an earlier execution from
 * the artifact store. Each file is recorded with its size and sha256.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Input } from '../config/config-model.js';
import {
  downloadInput,
  sanitiseFileName,
} from '../artifacts/download-input.js';
import type { InputFileRecord } from '../model/execution.js';
import type { WorkerDeps } from './worker-deps.js';
import { KilnError } from '../errors.js';

export class InputPreparationError extends KilnError {
  readonly code = 'INPUT_UNAVAILABLE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export async function prepareInputs(
  deps: Pick<WorkerDeps, 'executions' | 'artifacts' | 'fetch'>,
  options: {
    inputs: Input[];
    uris: Record<string, string[]>;
    dir: string;
    repository: string;
    /** Stops between files (a cancelled step downloads no more). */
    signal?: AbortSignal;
  },
): Promise<InputFileRecord[]> {
  const records: InputFileRecord[] = [];
  for (const input of options.inputs) {
    options.signal?.throwIfAborted();
    const uris = options.uris[input.name] ?? input.default;
    const folder = join(options.dir, input.name);
    await mkdir(folder, { recursive: true });
    if (uris.length === 0) {
      if (!input.optional) {
        throw new InputPreparationError(
          `input "${input.name}" has no value: give it a default in the step, an edge in the pipeline, or mark it optional`,
        );
      }
      continue;
    }
    for (const uri of uris) {
      options.signal?.throwIfAborted();
      records.push(
        await prepareOne(deps, {
          input,
          uri,
          folder,
          count: uris.length,
          repository: options.repository,
        }),
      );
    }
  }
  return records;
}

async function prepareOne(
  deps: Pick<WorkerDeps, 'executions' | 'artifacts' | 'fetch'>,
  options: {
    input: Input;
    uri: string;
    folder: string;
    count: number;
    repository: string;
  },
): Promise<InputFileRecord> {
  const { input, uri, folder } = options;
  const filename = options.count === 1 ? input.filename : undefined;
  if (uri.startsWith('datum://')) {
    const datum = await deps.executions.resolveDatum(
      uri.slice('datum://'.length),
    );
    if (!datum) {
      throw new InputPreparationError(
        `input "${input.name}": ${uri} is not known to this kiln (no execution produced it)`,
      );
    }
    const name = sanitiseFileName(filename ?? basename(datum.path));
    await deps.artifacts.copyTo(datum.sha256, join(folder, name));
    return {
      input: input.name,
      name,
      uri: `datum://${datum.id}`,
      size: datum.size,
      sha256: datum.sha256,
    };
  }
  try {
    const file = await downloadInput({
      uri,
      destDir: folder,
      filename,
      fetch: deps.fetch,
    });
    return {
      input: input.name,
      name: file.name,
      uri,
      size: file.size,
      sha256: file.sha256,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InputPreparationError(`input "${input.name}": ${message}`, {
      cause: error,
    });
  }
}
