/**
 * A step's `upload-store` (Valohai's name for the data store its outputs go
 * to): after kiln has stored the outputs content-addressed, they are also
 * written to the user's bucket, under
 * `<store prefix>/<repository>/<execution id>/<output path>`, with the
 * run's data-lake credentials (`DataStoreAccess`; fork runs write nothing).
 * The value names a store of `KILN_DATA_STORES` or is an `s3://bucket/prefix`
 * URL itself. The bytes come from kiln's own copy in the artifact store,
 * never again from the step's folder.
 */
import type { ArtifactStore } from './artifact-store.js';
import type { DataStoreAccess, RunAccess } from './data-store-access.js';
import { describeS3Error } from './describe-s3-error.js';
import { normalisePrefix, parseS3Url } from './parse-s3-url.js';

export interface UploadStoresOptions {
  /** Store name → `s3://bucket/prefix` (`KILN_DATA_STORES`). */
  stores: Record<string, string>;
  access: DataStoreAccess;
}

export interface WriteThroughRequest extends RunAccess {
  /** The step's `upload-store` value. */
  store: string;
  repository: string;
  executionId: string;
  files: Array<{ path: string; sha256: string; size: number }>;
  artifacts: ArtifactStore;
}

export interface WriteThroughResult {
  /** `s3://…` URLs written. */
  written: string[];
  /** What went wrong, for the execution's notes (no credentials). */
  notes: string[];
}

export class UploadStores {
  private readonly stores: Record<string, string>;
  private readonly access: DataStoreAccess;

  constructor(options: UploadStoresOptions) {
    this.stores = options.stores;
    this.access = options.access;
  }

  async writeThrough(
    request: WriteThroughRequest,
  ): Promise<WriteThroughResult> {
    const result: WriteThroughResult = { written: [], notes: [] };
    if (request.files.length === 0) return result;
    const url = this.stores[request.store] ?? request.store;
    let target;
    try {
      target = parseS3Url(url);
    } catch (error) {
      result.notes.push(
        `upload-store "${request.store}": ${String((error as Error).message)}`,
      );
      return result;
    }
    if (!target) {
      result.notes.push(
        `upload-store "${request.store}" is neither a store of KILN_DATA_STORES nor an s3://bucket/prefix URL; outputs are only in kiln's artifact store`,
      );
      return result;
    }
    if (!request.trusted) {
      result.notes.push(
        `outputs were not written to upload-store "${request.store}": runs of fork pull requests get no data-lake credentials`,
      );
      return result;
    }
    const client = await this.access.clientFor(request);
    const base = `${normalisePrefix(target.key)}${request.repository}/${request.executionId}/`;
    for (const file of request.files) {
      const key = `${base}${file.path}`;
      const shown = `s3://${target.bucket}/${key}`;
      try {
        const body = await request.artifacts.open(file.sha256);
        try {
          // Imported on use: only S3 uploads load the AWS SDK.
          const { Upload } = await import('@aws-sdk/lib-storage');
          await new Upload({
            client: client.s3.client,
            params: {
              Bucket: target.bucket,
              Key: key,
              Body: body,
              ContentType: 'application/octet-stream',
              Metadata: { sha256: file.sha256 },
            },
            leavePartsOnError: false,
          }).done();
        } finally {
          body.destroy();
        }
        result.written.push(shown);
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } })
          .$metadata?.httpStatusCode;
        result.notes.push(
          `writing ${file.path} to ${shown} failed (${describeS3Error(error)})${status === 403 ? `: ${client.accessHint}` : ''}; the output is kept in kiln's artifact store`,
        );
      }
    }
    return result;
  }
}
