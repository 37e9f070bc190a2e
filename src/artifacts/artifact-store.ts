import type { Readable } from 'node:stream';

/**
 * Content-addressed storage for step outputs and inputs (the port; the file
 * system adapter is `FsArtifactStore`, an object store can follow).
 *
 * Contract:
 * - Blobs are named by the lowercase hex SHA-256 of their bytes and never
 *   change once stored; the same bytes are stored once.
 * - `put` is idempotent and safe to call concurrently for the same content:
 *   a blob becomes visible only when complete (no reader ever sees a
 *   partial blob).
 * - `has`/`size` answer false/null for unknown digests; `open`/`copyTo`
 *   reject with `ArtifactError` code `NOT_FOUND`. A malformed digest is
 *   `INVALID_DIGEST` (digests may come from stored records, never trust them
 *   as paths).
 * - `copyTo` may share storage with the blob (a hard link): callers must
 *   treat the copy as read-only (mount it read-only into containers).
 * - Nothing here deletes: garbage collection is a separate concern.
 */
export interface ArtifactStore {
  /** Stores the regular file at `localPath` (never following a symlink). */
  put(localPath: string): Promise<{ sha256: string; size: number }>;
  has(sha256: string): Promise<boolean>;
  open(sha256: string): Promise<Readable>;
  /** Creates or replaces `destPath` with the blob's bytes. */
  copyTo(sha256: string, destPath: string): Promise<void>;
  /** Size in bytes, or null when the blob is not stored. */
  size(sha256: string): Promise<number | null>;
}
