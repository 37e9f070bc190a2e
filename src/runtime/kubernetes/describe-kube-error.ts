/**
 * Reading client-node's failures: the HTTP status of an API error, the
 * API server's own message (its `Status` object) rather than client-node's
 * dump of the whole response, and whether the API server was reached at
 * all. Messages never include request headers (the bearer token).
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

export function getKubeStatusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isKubeUnreachableError(error: unknown): boolean {
  if (getKubeStatusCode(error) !== undefined) {
    const status = getKubeStatusCode(error)!;
    return status === 502 || status === 503 || status === 504;
  }
  const code =
    (error as { code?: unknown } | null)?.code ??
    (error as { errno?: unknown } | null)?.errno;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  const type = (error as { type?: unknown } | null)?.type;
  return type === 'system' || type === 'request-timeout';
}

export function describeKubeError(error: unknown): string {
  const status = getKubeStatusCode(error);
  if (status !== undefined) {
    const body = (error as { body?: unknown }).body;
    let message: unknown;
    try {
      const parsed: unknown =
        typeof body === 'string' ? JSON.parse(body) : body;
      message = (parsed as { message?: unknown } | null)?.message;
    } catch {
      message = typeof body === 'string' ? body.slice(0, 300) : undefined;
    }
    return `HTTP ${status}${typeof message === 'string' && message ? `: ${message}` : ''}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
