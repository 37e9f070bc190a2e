/**
 * Retries a store call while the store (Redis) is unreachable or refuses
 * writes for a while (full under `maxmemory`, its disk full, a replica
 * being promoted), so a fault shorter than `maxMs` costs a step nothing —
 * no lost log line, no end reported as an infrastructure failure, no
 * healthy container killed. Other refused or invalid writes are not
 * retried. Writes retried here are idempotent (log lines by seq,
 * transitions by compare-and-set).
 */
import { redisRefusalOf } from '../redis/redis-refusal.js';

const CONNECTION_FAILURE =
  /connection|closed|writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|timed out|LOADING|max retries|reconnect/i;

export function isStoreUnreachable(error: unknown): boolean {
  return (
    error instanceof Error &&
    (CONNECTION_FAILURE.test(error.message) ||
      redisRefusalOf(error) !== undefined)
  );
}

export async function whileStoreDown<T>(
  call: () => Promise<T>,
  options: { maxMs?: number; onRetry?: (error: unknown) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (options.maxMs ?? 60_000);
  let delay = 250;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isStoreUnreachable(error) || Date.now() + delay > deadline) {
        throw error;
      }
      options.onRetry?.(error);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
