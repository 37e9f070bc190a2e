import type { Readable } from 'node:stream';

/**
 * Content-addressed storage for step outputs and inputs (the port). Two
 * adapters: `FsArtifactStore` (a local directory, the default) and
 * `S3ArtifactStore` (S3-compatible object storage, `KILN_ARTIFACTS_URL`),
 * picked by `createArtifactStore`.
 *
 * Contract:
 * - Blobs are named by the lowercase hex SHA-256 of their bytes and never
 *   change once stored; the same bytes are stored once.
 * - `put` is idempotent and safe to call concurrently for the same content:
 *   a blob becomes visible only when complete (no reader ever sees a
 *   partial blob). When `put` rejects, nothing was stored under a name a
 *   reader could mistake for the blob.
 * - `has`/`size` answer false/null for unknown digests; `open`/`copyTo`
 *   reject with `ArtifactError` code `NOT_FOUND`. A malformed digest is
 *   `INVALID_DIGEST` (digests may come from stored records, never trust them
 *   as paths).
 * - Bytes read from a store that could have changed them (object storage)
 *   are checked against the name: `copyTo` rejects with `CORRUPT` and
 *   leaves nothing at `destPath`; the stream of `open` errors at its end
 *   instead of ending.
 * - A store that can't be reached, after retries, rejects with
 *   `UNAVAILABLE`: an infrastructure failure, not the caller's fault.
 * - `copyTo` may share storage with the blob (a hard link): callers must
 *   treat the copy as read-only (mount it read-only into containers). To
 *   hand a file to a user, use `saveArtifactCopy`. It resolves with the
 *   identity of the stored object the bytes belong to (object storage: its
 *   ETag and version), for the execution record of the input.
 * - Nothing here deletes: garbage collection is a separate concern.
 */
/**
 * Which object of the store holds a blob: what an input's record keeps
 * beside the digest. Empty for a store without object identities (a
 * directory).
 */
export interface StoredObject {
  /** The object's ETag. */
  etag?: string;
  /** The object's version, on a versioned bucket. */
  versionId?: string;
}

export interface ArtifactStore {
  /** Where the blobs are, for messages: a directory or `s3://bucket/prefix/`. */
  readonly location: string;
  /** Stores the regular file at `localPath` (never following a symlink). */
  put(localPath: string): Promise<{ sha256: string; size: number }>;
  has(sha256: string): Promise<boolean>;
  open(sha256: string): Promise<Readable>;
  /** Creates or replaces `destPath` with the blob's bytes. */
  copyTo(sha256: string, destPath: string): Promise<StoredObject>;
  /** Size in bytes, or null when the blob is not stored. */
  size(sha256: string): Promise<number | null>;
  /**
   * A URL that serves the blob for a limited time without further
   * credentials (an S3 presigned GET), or null when the store has none and
   * the caller should stream `open` itself.
   */
  downloadUrl(
    sha256: string,
    options: { contentDisposition: string; expiresInSeconds: number },
  ): Promise<string | null>;
}
