/**
 * `s3://bucket/key` as kiln reads it: the artifact store's location
 * (`KILN_ARTIFACTS_URL=s3://bucket/prefix`), an input (`s3://bucket/key`,
 * `s3://bucket/prefix/*.csv`) or an upload store. Bucket names follow S3's
 * rules, so a name can never smuggle a host, a port or a path in.
 */
import { InputError } from './input-error.js';

export interface S3Url {
  bucket: string;
  /** The key (or prefix), without a leading slash; may be empty. */
  key: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Returns null when `text` is not an `s3://` URL at all. */
export function parseS3Url(text: string): S3Url | null {
  if (!text.startsWith('s3://')) return null;
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  const at = bucket.lastIndexOf('@');
  if (at !== -1) {
    // Never repeated: this message is stored with the run.
    throw new InputError(
      'UNSUPPORTED_URI',
      `"s3://…@${bucket.slice(at + 1, at + 81)}" has credentials in it; s3:// URLs take none: they come from the repository's AWS_* secrets or the worker's AWS settings`,
    );
  }
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new InputError(
      'UNSUPPORTED_URI',
      `"s3://${bucket.slice(0, 80)}" does not name an S3 bucket (3–63 lowercase letters, digits, dots and hyphens)`,
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) {
    throw new InputError(
      'UNSUPPORTED_URI',
      `the key of s3://${bucket}/… contains control characters`,
    );
  }
  return { bucket, key };
}

/** `prefix` with one trailing slash, or '' for the bucket's root. */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}
