/**
 * Watches the attempts a worker process holds and calls back the one that
 * must stop: at once when a stop request names its execution (the control
 * stream), and — in case one was missed while Redis was away — when a
 * periodic re-read of the nodes (one timer and one read per run for the
 * whole process, not one per step) finds the node moved on.
 *
 * Contract: `hold` before the attempt's work starts; the returned release
 * is idempotent; `onStop` runs at most once per hold.
 */
import type { RunStore } from '../store/index.js';
import type { StopWatcher } from '../store/stop-watcher.js';

export interface AttemptGuard {
  hold(
    attempt: {
      runId: string;
      node: string;
      attempt: number;
      executionId: string;
    },
    onStop: (reason: string) => void,
  ): () => void;
  close(): void;
}

interface Held {
  runId: string;
  node: string;
  attempt: number;
  onStop: (reason: string) => void;
  unwatch: () => void;
  stopped: boolean;
}

export function createAttemptGuard(deps: {
  runs: RunStore;
  stops: StopWatcher;
  /** @defaultValue 10000 */
  checkMs?: number;
}): AttemptGuard {
  const held = new Set<Held>();
  let timer: NodeJS.Timeout | undefined;

  const stop = (item: Held, reason: string) => {
    if (item.stopped) return;
    item.stopped = true;
    item.onStop(reason);
  };

  async function check(): Promise<void> {
    const byRun = new Map<string, Held[]>();
    for (const item of held) {
      const list = byRun.get(item.runId) ?? [];
      list.push(item);
      byRun.set(item.runId, list);
    }
    for (const [runId, items] of byRun) {
      const states = await deps.runs.getNodes(
        runId,
        items.map((item) => item.node),
      );
      items.forEach((item, index) => {
        const state = states[index];
        if (
          !state ||
          state.status !== 'started' ||
          state.attempt !== item.attempt
        ) {
          stop(item, state?.message ?? 'the node moved on');
        }
      });
    }
  }

  function ensureTimer(): void {
    if (timer || held.size === 0) return;
    timer = setInterval(() => {
      if (held.size === 0) {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      check().catch(() => undefined);
    }, deps.checkMs ?? 10_000);
    timer.unref();
  }

  return {
    hold(attempt, onStop) {
      const item: Held = {
        runId: attempt.runId,
        node: attempt.node,
        attempt: attempt.attempt,
        onStop,
        stopped: false,
        unwatch: () => undefined,
      };
      item.unwatch = deps.stops.watch(attempt.executionId, (request) =>
        stop(item, request.reason),
      );
      held.add(item);
      ensureTimer();
      return () => {
        item.unwatch();
        held.delete(item);
      };
    },
    close() {
      for (const item of held) item.unwatch();
      held.clear();
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
