/**
 * Lua scripts of the stores, registered with ioredis `defineCommand` so they
 * run by EVALSHA (re-sent automatically after a Redis restart empties the
 * script cache).
 */
import type { Redis } from 'ioredis';

export interface StoreScript {
  /** ioredis command name; `kiln` prefixed so it can't shadow a method. */
  name: string;
  /** Fixed key count, or `dynamic` when the call passes it first. */
  keys: number | 'dynamic';
  lua: string;
}

type ScriptMethod = (...args: Array<string | number>) => Promise<unknown>;

const defined = new WeakMap<Redis, Set<string>>();

export async function runScript(
  redis: Redis,
  script: StoreScript,
  call: { keys: readonly string[]; args: ReadonlyArray<string | number> },
): Promise<unknown> {
  let names = defined.get(redis);
  if (!names) {
    names = new Set();
    defined.set(redis, names);
  }
  if (!names.has(script.name)) {
    redis.defineCommand(
      script.name,
      script.keys === 'dynamic'
        ? { lua: script.lua }
        : { numberOfKeys: script.keys, lua: script.lua },
    );
    names.add(script.name);
  }
  const method = (redis as unknown as Record<string, ScriptMethod>)[
    script.name
  ];
  if (!method) throw new Error(`script ${script.name} is not defined`);
  const head = script.keys === 'dynamic' ? [call.keys.length] : [];
  return method.call(redis, ...head, ...call.keys, ...call.args);
}
