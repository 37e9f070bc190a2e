/**
 * Censors secret-bearing fields of a log object at any depth: pino's own
 * redaction works by path (`*.token` is one level), so a token two levels
 * down (`{ github: { auth: { token } } }`) reached the log. Keys are
 * matched by name, case-insensitively; the caller's object is never
 * changed (changed branches are copied). Depth is bounded and cycles are
 * left alone, so a strange object can't stall logging.
 */

/** Field names whose values are never logged. */
const SECRET_KEYS = new Set([
  'token',
  'secret',
  'password',
  'authorization',
  'x-hub-signature-256',
  'githubtoken',
  'githubprivatekey',
  'webhooksecret',
  'webhooksecretprevious',
  'metricstoken',
  'registryauth',
  'privatekey',
  'secretaccesskey',
]);

export const CENSOR = '[redacted]';
const MAX_DEPTH = 8;

export function redactLogObject<T>(value: T): T {
  return walk(value, 0, new WeakSet()) as T;
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) {
    return value;
  }
  if (seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, index) => {
      const next = walk(item, depth + 1, seen);
      if (next !== item) {
        copy ??= [...value];
        copy[index] = next;
      }
    });
    return copy ?? value;
  }
  // Errors, buffers, dates and the like keep their own shape (pino's
  // serializers render them); plain objects are looked into.
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const next =
      SECRET_KEYS.has(key.toLowerCase()) && item !== undefined && item !== null
        ? CENSOR
        : walk(item, depth + 1, seen);
    if (next !== item) {
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = next;
    }
  }
  return copy ?? value;
}
