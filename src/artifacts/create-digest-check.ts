/**
 * A pass-through stream that hashes what goes through it (SHA-256) and
 * counts it. With `expected`, the stream fails at its end instead of
 * finishing when the bytes hash to something else, and it holds back the
 * last chunk until the digest is known: whatever consumes it (a file being
 * written, an HTTP response with a Content-Length) never receives every
 * byte of a corrupted blob, so never mistakes it for a whole one.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface DigestCheck extends Transform {
  /** Bytes seen so far. */
  readonly bytes: number;
  /** The hex digest, once the stream has ended. */
  readonly digest: string | undefined;
}

export interface DigestCheckOptions {
  expected?: string;
  /** Fails the stream past this many bytes. */
  maxBytes?: number;
  /** The error for a mismatch (`actual` is the digest of what was read). */
  onMismatch?: (actual: string) => Error;
  onTooLarge?: () => Error;
}

export function createDigestCheck(
  options: DigestCheckOptions = {},
): DigestCheck {
  const hash = createHash('sha256');
  const hold = options.expected !== undefined;
  let bytes = 0;
  let digest: string | undefined;
  let held: Buffer | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (options.maxBytes !== undefined && bytes > options.maxBytes) {
        callback(
          options.onTooLarge?.() ??
            new Error(`more than ${options.maxBytes} bytes`),
        );
        return;
      }
      hash.update(chunk);
      if (!hold) {
        callback(null, chunk);
        return;
      }
      const previous = held;
      held = chunk;
      callback(null, previous);
    },
    flush(callback) {
      digest = hash.digest('hex');
      if (options.expected !== undefined && digest !== options.expected) {
        callback(
          options.onMismatch?.(digest) ??
            new Error(
              `sha256 ${digest} is not the expected ${options.expected}`,
            ),
        );
        return;
      }
      callback(null, held);
    },
  });
  Object.defineProperties(stream, {
    bytes: { get: () => bytes },
    digest: { get: () => digest },
  });
  return stream as DigestCheck;
}
