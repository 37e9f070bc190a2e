/**
 * Fetches the inputs a step names by URL, for the worker: `https://` and
 * `http://` under the operator's fetch policy, `s3://bucket/key` and
 * `s3://bucket/prefix/*` globs with the run's data-lake credentials
 * (`DataStoreAccess`: none for fork runs), all through the worker's input
 * cache. `datum://` is the artifact store's business, not this.
 */
import { join } from 'node:path';
import { DataStoreAccess } from './data-store-access.js';
import {
  DEFAULT_INPUT_TIMEOUT_MS,
  DEFAULT_MAX_INPUT_BYTES,
  downloadInput,
} from './download-input.js';
import { InputCache } from './input-cache.js';
import { InputFetchPolicy } from './input-fetch-policy.js';
import { parseS3Url } from './parse-s3-url.js';

export interface InputFetcherOptions {
  /** @defaultValue public addresses only, any host */
  policy?: InputFetchPolicy;
  /** The worker's input cache (kept between executions). */
  cacheDir: string;
  /** @defaultValue repository secrets only */
  access?: DataStoreAccess;
  /** @defaultValue 10 GiB */
  maxBytes?: number;
  /** Per URL. @defaultValue 30 minutes */
  timeoutMs?: number;
}

export interface FetchInputRequest {
  uri: string;
  /** The input's folder. */
  destDir: string;
  /** Name of the file when the URI names one file. */
  filename?: string;
  /** @defaultValue 'none' */
  keepDirectories?: 'none' | 'full' | 'suffix';
  /** False for fork runs: no credentials. */
  trusted: boolean;
  /** The repository's secrets, read only when a trusted run needs them. */
  secrets?: () => Promise<Record<string, string>>;
  /** Stops the download (a cancelled step); rejects with its reason. */
  signal?: AbortSignal;
}

export interface FetchedInput {
  /** Path inside the input folder (POSIX). */
  name: string;
  size: number;
  sha256: string;
  /** What was read, without credentials (an S3 glob: each object's own URL). */
  uri: string;
  etag?: string;
  versionId?: string;
}

export class InputFetcher {
  readonly policy: InputFetchPolicy;
  readonly access: DataStoreAccess;
  private readonly cache: InputCache;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;

  constructor(options: InputFetcherOptions) {
    this.policy = options.policy ?? new InputFetchPolicy();
    this.access = options.access ?? new DataStoreAccess();
    this.cache = new InputCache(options.cacheDir);
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_INPUT_BYTES;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_INPUT_TIMEOUT_MS;
  }

  async fetch(request: FetchInputRequest): Promise<FetchedInput[]> {
    const s3 = parseS3Url(request.uri);
    if (s3) {
      const store = await this.access.clientFor(request);
      // Imported on use: only S3 inputs load the AWS SDK.
      const { downloadS3Input } = await import('./download-s3-input.js');
      return downloadS3Input({
        client: store.s3.client,
        server: store.s3.endpoint ?? `aws:${store.s3.region}`,
        source: s3,
        destDir: request.destDir,
        filename: request.filename,
        keepDirectories: request.keepDirectories ?? 'none',
        cache: this.cache,
        maxBytes: this.maxBytes,
        accessHint: store.accessHint,
        ...(request.signal ? { signal: request.signal } : {}),
      });
    }
    const file = await downloadInput({
      uri: request.uri,
      destDir: request.destDir,
      filename: request.filename,
      policy: this.policy,
      cache: this.cache,
      maxBytes: this.maxBytes,
      timeoutMs: this.timeoutMs,
      ...(request.signal ? { signal: request.signal } : {}),
    });
    const fetched: FetchedInput = {
      name: file.name,
      size: file.size,
      sha256: file.sha256,
      uri: file.uri,
    };
    if (file.etag) fetched.etag = file.etag;
    return [fetched];
  }
}

/** A fetcher for callers that were given none: strict policy, no sharing. */
export function defaultInputFetcher(workDir: string): InputFetcher {
  return new InputFetcher({ cacheDir: join(workDir, 'input-cache') });
}
