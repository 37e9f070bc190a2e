/**
 * Puts a step's inputs in place before it starts: `datum://ID` resolves an
 * output of an earlier execution from the artifact store; `https://`,
 * `http://` and `s3://` URLs (and `s3://…/*` globs) are fetched by the
 * worker's `InputFetcher` under the operator's fetch policy, with the
 * repository's data-lake credentials for trusted runs only. Each file is
 * recorded with its size and sha256, and the ETag/version of the object
 * read (for a `datum://` input in an object-storage artifact store, the
 * store's object); never with credentials. Problems with an input reject with
 * `InputPreparationError`; an unreachable artifact store rejects with its
 * `ArtifactError` (`UNAVAILABLE`), an infrastructure failure.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Input } from '../config/config-model.js';
import { ArtifactError } from '../artifacts/artifact-error.js';
import type { StoredObject } from '../artifacts/artifact-store.js';
import { sanitiseFileName } from '../artifacts/download-input.js';
import { defaultInputFetcher } from '../artifacts/input-fetcher.js';
import type { InputFetcher } from '../artifacts/input-fetcher.js';
import type { InputFileRecord } from '../model/execution.js';
import type { WorkerDeps } from './worker-deps.js';
import { KilnError } from '../errors.js';

export class InputPreparationError extends KilnError {
  readonly code = 'INPUT_UNAVAILABLE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

type InputDeps = Pick<
  WorkerDeps,
  'executions' | 'artifacts' | 'inputFetcher' | 'secretsFor'
>;

export async function prepareInputs(
  deps: InputDeps,
  options: {
    inputs: Input[];
    uris: Record<string, string[]>;
    dir: string;
    repository: string;
    /** Stops between files (a cancelled step downloads no more). */
    signal?: AbortSignal;
    /**
     * The run's `trusted !== false`. Required on purpose: a fork run must
     * never fetch with the repository's credentials by omission.
     */
    trusted: boolean;
  },
): Promise<InputFileRecord[]> {
  const records: InputFileRecord[] = [];
  const fetcher =
    deps.inputFetcher ?? defaultInputFetcher(join(options.dir, '..'));
  const secretsFor = deps.secretsFor;
  const secrets =
    options.trusted && secretsFor
      ? () => secretsFor(options.repository)
      : undefined;
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
        ...(await prepareOne(deps, {
          input,
          uri,
          folder,
          count: uris.length,
          fetch: (request) =>
            fetcher.fetch({
              ...request,
              trusted: options.trusted,
              secrets,
              ...(options.signal ? { signal: options.signal } : {}),
            }),
        })),
      );
    }
  }
  return records;
}

async function prepareOne(
  deps: InputDeps,
  options: {
    input: Input;
    uri: string;
    folder: string;
    count: number;
    fetch: (request: {
      uri: string;
      destDir: string;
      filename?: string;
      keepDirectories: Input['keepDirectories'];
    }) => ReturnType<InputFetcher['fetch']>;
  },
): Promise<InputFileRecord[]> {
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
    let object: StoredObject;
    try {
      object = await deps.artifacts.copyTo(datum.sha256, join(folder, name));
    } catch (error) {
      // A store that can't be reached (or a full disk) is the
      // infrastructure's failure and is thrown as is, to be retried; a
      // missing or corrupt blob is this input's problem.
      if (
        error instanceof ArtifactError &&
        (error.code === 'UNAVAILABLE' || error.code === 'IO_FAILED')
      ) {
        throw error;
      }
      throw new InputPreparationError(
        `input "${input.name}": ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    return [
      {
        input: input.name,
        name,
        uri: `datum://${datum.id}`,
        size: datum.size,
        sha256: datum.sha256,
        // The object the bytes came from, in an object-storage store.
        ...(object.etag !== undefined ? { etag: object.etag } : {}),
        ...(object.versionId !== undefined
          ? { versionId: object.versionId }
          : {}),
      },
    ];
  }
  try {
    const files = await options.fetch({
      uri,
      destDir: folder,
      filename,
      keepDirectories: input.keepDirectories,
    });
    return files.map((file) => {
      const record: InputFileRecord = {
        input: input.name,
        name: file.name,
        uri: file.uri,
        size: file.size,
        sha256: file.sha256,
      };
      if (file.etag !== undefined) record.etag = file.etag;
      if (file.versionId !== undefined) record.versionId = file.versionId;
      return record;
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InputPreparationError(`input "${input.name}": ${message}`, {
      cause: error,
    });
  }
}
