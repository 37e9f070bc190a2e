/**
 * Lua scripts of the stores, sent by EVALSHA with the script's SHA-1, and
 * by EVAL when Redis does not have it (NOSCRIPT: a restarted or flushed
 * Redis), after which EVALSHA works again.
 *
 * Not ioredis `defineCommand`: kiln's server client pipelines commands
 * automatically, and a command defined on a client while one of its
 * automatic pipelines is open breaks that pipeline's replies and crashes
 * the process (ioredis#1931: "results[i] is not iterable") — which is what
 * happened when a restarted kiln ran its first report jobs together.
 * EVALSHA and EVAL are plain commands, safe in any pipeline.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface StoreScript {
  /** A name for the script (errors, tracing); `kiln` prefixed. */
  name: string;
  /** Fixed key count, or `dynamic` when the call decides it. */
  keys: number | 'dynamic';
  lua: string;
}

const shas = new WeakMap<StoreScript, string>();

export async function runScript(
  redis: Redis,
  script: StoreScript,
  call: { keys: readonly string[]; args: ReadonlyArray<string | number> },
): Promise<unknown> {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script.lua).digest('hex');
    shas.set(script, sha);
  }
  const count = script.keys === 'dynamic' ? call.keys.length : script.keys;
  try {
    return await redis.evalsha(sha, count, ...call.keys, ...call.args);
  } catch (error) {
    if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
    return redis.eval(script.lua, count, ...call.keys, ...call.args);
  }
}
