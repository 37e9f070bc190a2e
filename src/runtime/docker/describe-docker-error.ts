/**
 * Reading errors from dockerode/docker-modem: HTTP errors carry
 * `statusCode` and the engine's JSON `message`; socket errors carry a
 * Node `code`. The runtime decides retryable vs not from these, never from
 * message text.
 */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EACCES',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_SOCKET_CLOSED',
]);

/** The HTTP status of an Engine API error, if it is one. */
export function getDockerStatusCode(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : null;
}

/** True when the error says the engine's socket did not answer. */
export function isEngineUnreachableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && UNREACHABLE_CODES.has(code);
}

/** The engine's own message when there is one, else the error's message. */
export function describeDockerError(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const json = (error as { json?: unknown }).json;
    if (typeof json === 'object' && json !== null) {
      const message = (json as { message?: unknown }).message;
      if (typeof message === 'string') return message.trim();
    }
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return message.trim();
  }
  return String(error);
}
