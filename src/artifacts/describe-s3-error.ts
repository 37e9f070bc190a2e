/**
 * How kiln reads an error from the AWS SDK: a short description for
 * messages (never the request, which may hold a signature) and whether a
 * retry can help.
 */

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  cause?: unknown;
}

/** `AccessDenied, HTTP 403`, `ECONNREFUSED`, `TimeoutError`… */
export function describeS3Error(error: unknown): string {
  const shape = (error ?? {}) as SdkErrorShape;
  const status = shape.$metadata?.httpStatusCode;
  const code = networkCode(error);
  if (code) return code;
  const name = shape.Code ?? shape.name ?? 'unknown error';
  return status === undefined ? name : `${name}, HTTP ${status}`;
}

/** Network failures, timeouts, throttling and 5xx: worth another try. */
export function isTransientS3Error(error: unknown): boolean {
  const shape = (error ?? {}) as SdkErrorShape;
  const status = shape.$metadata?.httpStatusCode;
  const code = networkCode(error);
  // A local failure (ENOSPC writing the cache, EACCES…) won't heal by itself.
  if (code && !NETWORK_CODES.has(code)) return false;
  if (status === undefined) return true; // no answer at all
  if (status >= 500 || status === 408 || status === 429) return true;
  if (shape.$retryable) return true;
  return /^(SlowDown|Throttling|RequestTimeout|TimeoutError)/.test(
    shape.name ?? '',
  );
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPROTO',
]);

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    const code = (current as SdkErrorShape).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    current = (current as SdkErrorShape).cause;
  }
  return undefined;
}
