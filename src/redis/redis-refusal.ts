/**
 * Why Redis refused a write, in words an operator can act on. Redis
 * answers a write it won't store with an error reply instead of storing it
 * half: `OOM` when `maxmemory` is reached under `noeviction` (the policy
 * kiln requires), `MISCONF` when it can't persist (its AOF or RDB writes
 * fail, e.g. its disk is full), `READONLY` on a replica. Inside a Lua
 * script (BullMQ's and kiln's own) the same words come wrapped in the
 * script's error, so the reply is matched anywhere in the message.
 *
 * kiln answers these with 503 (nothing was stored, so nothing is acked)
 * and logs the reason; the client (GitHub, an API caller) tries again
 * once the operator fixed Redis.
 */
export type RedisRefusalKind = 'out-of-memory' | 'cannot-persist' | 'read-only';

export interface RedisRefusal {
  kind: RedisRefusalKind;
  /** What happened and what to do, without the request's data. */
  reason: string;
}

const REFUSALS: Array<{
  kind: RedisRefusalKind;
  pattern: RegExp;
  reason: string;
}> = [
  {
    kind: 'out-of-memory',
    pattern: /\bOOM command not allowed\b/,
    reason:
      'Redis is full: it reached maxmemory and refuses writes (noeviction) — give it more memory (maxmemory) or free some',
  },
  {
    kind: 'cannot-persist',
    pattern: /\bMISCONF\b/,
    reason:
      "Redis can't write to its disk (its AOF or snapshot writes fail, e.g. the disk is full) and refuses writes — free space on Redis's disk",
  },
  {
    kind: 'read-only',
    pattern: /\bREADONLY\b/,
    reason:
      'Redis is a read-only replica and refuses writes — point REDIS_URL at the primary',
  },
];

/** The refusal `error` carries, or undefined for any other error. */
export function redisRefusalOf(error: unknown): RedisRefusal | undefined {
  if (!(error instanceof Error)) return undefined;
  const found = REFUSALS.find((item) => item.pattern.test(error.message));
  return found && { kind: found.kind, reason: found.reason };
}
