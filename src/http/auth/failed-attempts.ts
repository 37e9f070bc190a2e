/**
 * Failed token attempts per client address, so tokens can't be guessed at
 * the speed of the server: past `limit` failures in a window, the address
 * is refused (429) until the window ends — a valid token included, or the
 * guessing would go on. In memory, per server process; the address is the
 * socket's (kiln does not trust proxy headers).
 */

export interface FailedAttempts {
  /** Seconds until `client` may try again; 0 when it may now. */
  retryAfterS(client: string): number;
  /** Counts a failed attempt of `client`. */
  fail(client: string): void;
}

export interface FailedAttemptsOptions {
  /** Failures allowed per window. @defaultValue 30 */
  limit?: number;
  /** @defaultValue 60000 */
  windowMs?: number;
  /** Clients tracked at once; the oldest window is dropped past it. @defaultValue 10000 */
  maxClients?: number;
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
}

export function createFailedAttempts(
  options: FailedAttemptsOptions = {},
): FailedAttempts {
  const limit = options.limit ?? 30;
  const windowMs = options.windowMs ?? 60_000;
  const maxClients = options.maxClients ?? 10_000;
  const now = options.now ?? Date.now;
  const windows = new Map<string, Window>();

  function current(client: string): Window | undefined {
    const window = windows.get(client);
    if (window && now() - window.start >= windowMs) {
      windows.delete(client);
      return undefined;
    }
    return window;
  }

  return {
    retryAfterS(client) {
      const window = current(client);
      if (!window || window.failures < limit) return 0;
      return Math.max(1, Math.ceil((window.start + windowMs - now()) / 1000));
    },
    fail(client) {
      const window = current(client);
      if (window) {
        window.failures += 1;
        return;
      }
      if (windows.size >= maxClients) {
        // Maps keep insertion order: the first key has the oldest window.
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      windows.set(client, { start: now(), failures: 1 });
    },
  };
}
