/**
 * Stop requests for running executions, as a worker hears them: the run
 * store appends one to the control stream when a transition stops a
 * started node (cancel, supersede, stop-all, a takeover); every worker
 * process follows that stream once and calls back the execution it holds.
 *
 * Contract: `watch` before starting the work that must stop; the callback
 * runs at most once per request, never after the returned unwatch. Only
 * requests appended after the watcher started are seen: a worker also
 * re-reads its node now and then (a request missed while Redis was away).
 */
import type { RedisKeys } from '../redis/redis-keys.js';
import type { StreamFollower } from '../redis/stream-follower.js';
import type { StopRequest } from './run-store.js';

export interface StopWatcher {
  watch(
    executionId: string,
    onStop: (request: StopRequest) => void,
  ): () => void;
  close(): void;
}

export function createStopWatcher(
  follower: StreamFollower,
  keys: RedisKeys,
): StopWatcher {
  const watching = new Map<string, (request: StopRequest) => void>();
  const unfollow = follower.follow(keys.control, '$', (entries) => {
    for (const [, fields] of entries) {
      const request = parseRequest(fields);
      if (!request) continue;
      watching.get(request.executionId)?.(request);
    }
  });
  return {
    watch(executionId, onStop) {
      watching.set(executionId, onStop);
      return () => {
        if (watching.get(executionId) === onStop) watching.delete(executionId);
      };
    },
    close() {
      unfollow();
      watching.clear();
    },
  };
}

function parseRequest(fields: readonly string[]): StopRequest | null {
  const index = fields.indexOf('e');
  if (index < 0) return null;
  try {
    const value = JSON.parse(fields[index + 1] ?? '') as Partial<StopRequest>;
    if (typeof value.executionId !== 'string') return null;
    return {
      runId: String(value.runId ?? ''),
      node: String(value.node ?? ''),
      executionId: value.executionId,
      ...(typeof value.worker === 'string' ? { worker: value.worker } : {}),
      reason: String(value.reason ?? 'stopped'),
    };
  } catch {
    return null;
  }
}
