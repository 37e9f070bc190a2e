/**
 * `ArtifactStore` on S3-compatible object storage
 * (`KILN_ARTIFACTS_URL=s3://bucket/prefix`): workers on different machines
 * share artifacts through it, with no shared file system.
 *
 * - Keys are content-addressed, `<prefix>sha256/<first 2 hex>/<other 62>`,
 *   with the digest also in the object's metadata (`x-amz-meta-sha256`).
 * - `put` reads the file once: it is hashed while copied into the worker's
 *   local cache (an `FsArtifactStore`, read without following symlinks),
 *   and that copy — kiln's own, read-only, so it can't change after it was
 *   hashed — is uploaded as a streamed multipart upload (lib-storage). An
 *   upload becomes an object only when complete; a failed one is aborted.
 *   The object is then checked (size and digest) with a HEAD.
 * - Reads are checked against the name: `copyTo` downloads into the local
 *   cache and refuses bytes that hash to anything else (`CORRUPT`), `open`
 *   errors at the end of a stream that does not match. Blobs already in the
 *   cache are not downloaded again. `copyTo` answers the object's ETag and
 *   version (from the GET, or a HEAD for a cached blob).
 * - Network errors, timeouts, throttling and 5xx answers are retried (the
 *   SDK's own retries per request, then the whole operation with a growing
 *   delay); then `UNAVAILABLE`, which the worker treats as an
 *   infrastructure failure. Other answers (403, missing bucket) fail at
 *   once, with the store's location and the S3 error code in the message.
 * - `downloadUrl` presigns a GET for the UI/API (the browser fetches the
 *   bytes from the store, not through kiln).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ArtifactError } from './artifact-error.js';
import type { ArtifactStore, StoredObject } from './artifact-store.js';
import { createDigestCheck } from './create-digest-check.js';
import { FsArtifactStore } from './fs-artifact-store.js';
import { describeS3Error, isTransientS3Error } from './describe-s3-error.js';
import { codeOf } from './open-regular-file.js';
import { normalisePrefix } from './parse-s3-url.js';

const DIGEST = /^[0-9a-f]{64}$/;

export interface S3ArtifactStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix (`kiln/` or ''). */
  prefix: string;
  /** The worker's local cache of blobs (a directory). */
  cacheDir: string;
  /** Bytes the local cache leaves free on its disk. @defaultValue 0 */
  cacheReserveBytes?: number;
  /**
   * Whole-operation attempts and the first delay (doubled each time), on
   * top of the SDK's per-request retries. @defaultValue 4 attempts, 1000 ms
   */
  retry?: { attempts: number; delayMs: number };
  /** Multipart part size in bytes (at least 5 MiB). @defaultValue 16 MiB */
  partSize?: number;
  /** Parts in flight at once. @defaultValue 4 */
  queueSize?: number;
}

export class S3ArtifactStore implements ArtifactStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  /** Blobs this worker stored or downloaded, checked on the way in. */
  readonly cache: FsArtifactStore;
  private readonly client: S3Client;
  private readonly retry: { attempts: number; delayMs: number };
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(options: S3ArtifactStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix);
    this.location = `s3://${this.bucket}/${this.prefix}`;
    this.cache = new FsArtifactStore(options.cacheDir, {
      reserveBytes: options.cacheReserveBytes,
    });
    this.retry = options.retry ?? { attempts: 4, delayMs: 1000 };
    this.partSize = Math.max(
      5 * 1024 * 1024,
      options.partSize ?? 16 * 1024 * 1024,
    );
    this.queueSize = Math.max(1, options.queueSize ?? 4);
  }

  async put(localPath: string): Promise<{ sha256: string; size: number }> {
    // The key is the digest, so it must be known before the upload starts:
    // one pass hashes the file into the cache, the upload reads that copy.
    const blob = await this.cache.put(localPath);
    await this.withRetries(`uploading ${blob.sha256}`, async () => {
      const head = await this.head(blob.sha256);
      if (head && head.size === blob.size && head.sha256 === blob.sha256) {
        return; // already stored (the same bytes from another execution)
      }
      await this.upload(blob);
    });
    return blob;
  }

  /** One upload attempt of a blob of the local cache. */
  private async upload(blob: { sha256: string; size: number }): Promise<void> {
    const path = this.cache.pathOf(blob.sha256);
    // Parts are 16 MiB: 1 MiB reads fill one in 16 chunks, not 256.
    const source = createReadStream(path, { highWaterMark: 1024 * 1024 });
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.keyOf(blob.sha256),
        Body: source,
        ContentType: 'application/octet-stream',
        Metadata: { sha256: blob.sha256 },
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      // A failed upload is aborted: its parts never become an object.
      leavePartsOnError: false,
    });
    // A local read failure must fail the upload, not stall it.
    const failed = new Promise<never>((_resolve, reject) => {
      source.once('error', (error: Error) => {
        void upload.abort().catch(() => undefined);
        reject(
          new ArtifactError(
            'IO_FAILED',
            `reading ${path} of the local cache failed (${codeOf(error)})`,
            { cause: error },
          ),
        );
      });
    });
    failed.catch(() => undefined);
    try {
      await Promise.race([upload.done(), failed]);
    } finally {
      source.destroy();
    }
    // radosgw answers CompleteMultipartUpload with an empty ETag; HEAD is
    // the reliable check that the object is there, whole.
    const stored = await this.head(blob.sha256);
    if (!stored || stored.size !== blob.size) {
      throw new ArtifactError(
        'UNAVAILABLE',
        `${this.location}: after uploading ${blob.sha256} (${blob.size} bytes) the store holds ${stored ? `${stored.size} bytes` : 'nothing'} under its key`,
      );
    }
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== null;
  }

  async size(sha256: string): Promise<number | null> {
    this.keyOf(sha256);
    const head = await this.withRetries(`looking up ${sha256}`, () =>
      this.head(sha256),
    );
    return head?.size ?? null;
  }

  async open(sha256: string): Promise<Readable> {
    this.keyOf(sha256);
    if (await this.cache.has(sha256)) return this.cache.open(sha256);
    const { body } = await this.withRetries(`reading ${sha256}`, () =>
      this.get(sha256),
    );
    const check = createDigestCheck({
      expected: sha256,
      onMismatch: (actual) => this.corrupt(sha256, actual),
    });
    body.on('error', (error) => check.destroy(error));
    return body.pipe(check);
  }

  async copyTo(sha256: string, destPath: string): Promise<StoredObject> {
    this.keyOf(sha256);
    let object: StoredObject;
    if (await this.cache.has(sha256)) {
      // Checked when it was cached; the store still says which object
      // holds these bytes, for the record.
      const head = await this.withRetries(`looking up ${sha256}`, () =>
        this.head(sha256),
      );
      object = {
        ...(head?.etag ? { etag: head.etag } : {}),
        ...(head?.versionId ? { versionId: head.versionId } : {}),
      };
    } else {
      object = await this.withRetries(`downloading ${sha256}`, async () => {
        const { body, object: read } = await this.get(sha256);
        await this.cache.putStream(body, {
          expected: sha256,
          onMismatch: (actual) => this.corrupt(sha256, actual),
        });
        return read;
      });
    }
    await this.cache.copyTo(sha256, destPath);
    return object;
  }

  async downloadUrl(
    sha256: string,
    options: { contentDisposition: string; expiresInSeconds: number },
  ): Promise<string> {
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.keyOf(sha256),
        ResponseContentDisposition: options.contentDisposition,
        ResponseContentType: 'application/octet-stream',
      }),
      { expiresIn: options.expiresInSeconds },
    );
  }

  /** The object key of a blob; rejects anything but a 64-hex digest. */
  keyOf(sha256: string): string {
    if (!DIGEST.test(sha256)) {
      throw new ArtifactError(
        'INVALID_DIGEST',
        `"${sha256.slice(0, 80)}" is not a sha256 digest (64 lowercase hex characters)`,
      );
    }
    return `${this.prefix}sha256/${sha256.slice(0, 2)}/${sha256.slice(2)}`;
  }

  private async head(
    sha256: string,
  ): Promise<(StoredObject & { size: number; sha256?: string }) | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }),
      );
      return {
        size: head.ContentLength ?? 0,
        sha256: head.Metadata?.sha256,
        ...identity(head),
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async get(
    sha256: string,
  ): Promise<{ body: Readable; object: StoredObject }> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }),
      );
      return { body: object.Body as Readable, object: identity(object) };
    } catch (error) {
      if (isNotFound(error)) {
        throw new ArtifactError(
          'NOT_FOUND',
          `artifact ${sha256} is not in the store at ${this.location}`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  private corrupt(sha256: string, actual: string): ArtifactError {
    return new ArtifactError(
      'CORRUPT',
      `artifact ${sha256} in ${this.location} is corrupt: its bytes hash to ${actual}; kiln refuses it (restore the object, or re-run the execution that produced it)`,
    );
  }

  /**
   * Runs `operation`, again after a growing delay while it fails for a
   * transient reason; kiln's own errors (CORRUPT, NOT_FOUND) and
   * permanent S3 answers are not retried.
   */
  private async withRetries<T>(
    what: string,
    operation: () => Promise<T>,
  ): Promise<T> {
    let delay = this.retry.delayMs;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await operation();
      } catch (error) {
        if (error instanceof ArtifactError && error.code !== 'UNAVAILABLE') {
          throw error;
        }
        const transient =
          error instanceof ArtifactError || isTransientS3Error(error);
        if (!transient || attempt >= this.retry.attempts) {
          throw new ArtifactError(
            'UNAVAILABLE',
            `${what} in the artifact store ${this.location} failed${transient ? ` after ${attempt} attempts` : ''} (${describeS3Error(error)}); ${transient ? 'is the object store up and reachable from this host?' : 'check the bucket, its policy and the credentials (AWS_ACCESS_KEY_ID…, AWS_PROFILE or the instance role)'}`,
            { cause: error },
          );
        }
        await sleep(delay);
        delay *= 2;
      }
    }
  }
}

function isNotFound(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } })
    ?.$metadata?.httpStatusCode;
  const name = (error as { name?: string })?.name;
  return status === 404 || name === 'NotFound' || name === 'NoSuchKey';
}

/** The ETag and version of an S3 answer, without empty values. */
function identity(answer: { ETag?: string; VersionId?: string }): StoredObject {
  return {
    ...(answer.ETag ? { etag: answer.ETag } : {}),
    // Unversioned buckets answer "null" (or nothing) as the version.
    ...(answer.VersionId && answer.VersionId !== 'null'
      ? { versionId: answer.VersionId }
      : {}),
  };
}
