/**
 * Reads a request body into memory with a byte cap and a deadline, for
 * routes that must see the exact bytes (webhook signatures). The declared
 * `Content-Length` is checked before a byte is read, and bytes are counted
 * while streaming (a chunked or lying client can't get past the cap), so
 * memory stays bounded by the cap whatever the client sends.
 */
import type { IncomingMessage } from 'node:http';
import { KilnError } from '../errors.js';

export type BodyReadErrorCode =
  'BODY_TOO_LARGE' | 'BODY_TIMEOUT' | 'BODY_ABORTED';

export class BodyReadError extends KilnError {
  readonly code: BodyReadErrorCode;
  constructor(code: BodyReadErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ReadRawBodyOptions {
  maxBytes: number;
  /** Whole-body deadline: a client trickling bytes is cut here. */
  timeoutMs: number;
}

/** True when the declared length alone is over the cap. */
export function declaresTooLarge(
  request: IncomingMessage,
  maxBytes: number,
): boolean {
  const declared = request.headers['content-length'];
  if (declared === undefined || !/^\d+$/.test(declared)) return false;
  return Number(declared) > maxBytes;
}

/**
 * Resolves with the body, or rejects with a `BodyReadError`. On rejection
 * the stream is paused and left to the caller, which answers and closes
 * the connection (the rest of the body is never read).
 */
export function readRawBody(
  request: IncomingMessage,
  options: ReadRawBodyOptions,
): Promise<Buffer> {
  const { maxBytes, timeoutMs } = options;
  if (declaresTooLarge(request, maxBytes)) {
    return Promise.reject(tooLarge(maxBytes));
  }
  // With a declared length the body is copied into one buffer of that size
  // as it comes: no chunk list and no second copy at the end (a 24 MB body
  // costs 24 MB, not 48).
  const declared = request.headers['content-length'];
  const whole =
    declared !== undefined && /^\d+$/.test(declared)
      ? Buffer.allocUnsafe(Number(declared))
      : null;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const timer = setTimeout(() => {
      settle(
        new BodyReadError(
          'BODY_TIMEOUT',
          `the request body did not arrive within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);

    function cleanUp(): void {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onAborted);
      request.off('close', onAborted);
    }
    function settle(error: BodyReadError | null): void {
      if (settled) return;
      settled = true;
      cleanUp();
      if (error) {
        request.pause();
        chunks.length = 0;
        reject(error);
      } else if (whole) {
        resolve(whole.subarray(0, size));
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    }
    function onData(chunk: Buffer): void {
      size += chunk.length;
      if (size > maxBytes) {
        settle(tooLarge(maxBytes));
        return;
      }
      if (whole && size <= whole.length) chunk.copy(whole, size - chunk.length);
      else chunks.push(chunk);
    }
    function onEnd(): void {
      settle(null);
    }
    function onAborted(): void {
      settle(
        new BodyReadError(
          'BODY_ABORTED',
          'the client closed the connection before the body was complete',
        ),
      );
    }
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onAborted);
    request.on('close', onAborted);
  });
}

function tooLarge(maxBytes: number): BodyReadError {
  return new BodyReadError(
    'BODY_TOO_LARGE',
    `the body is larger than ${maxBytes} bytes (KILN_WEBHOOK_MAX_BYTES); GitHub never sends more than 25 MB`,
  );
}
