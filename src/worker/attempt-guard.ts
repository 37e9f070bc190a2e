/**
 * Watches the attempts a worker process holds and calls back the one that
 * must stop: at once when a stop request names its execution (the control
 * stream), and — in case one was missed while Redis was away — when a
 * periodic re-read of the nodes (one timer and one read per run for the
 * whole process, not one per step) finds the node moved on.
 *
 * It also beats for every attempt it holds (store/attempt-beats.ts), so a
 * takeover can tell this worker is alive although its job's lock lapsed.
 *
 * Contract: `hold` before the attempt's work starts; the returned release
 * is idempotent; `onStop` runs at most once per hold.
 */
import type { AttemptBeats } from '../store/attempt-beats.js';
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
  executionId: string;
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
  /** Heartbeats of held attempts; none when absent. */
  beats?: AttemptBeats;
  /** Between beats; a beat lives three of these. @defaultValue 5000 */
  beatMs?: number;
}): AttemptGuard {
  const held = new Set<Held>();
  let timer: NodeJS.Timeout | undefined;
  let beatTimer: NodeJS.Timeout | undefined;
  const beatMs = deps.beatMs ?? 5_000;

  function beat(ids: string[]): void {
    // Redis away: the next beat (or the takeover's grace) covers it.
    deps.beats?.beat(ids, beatMs * 3).catch(() => undefined);
  }

  function ensureBeats(): void {
    if (!deps.beats || beatTimer || held.size === 0) return;
    beatTimer = setInterval(() => {
      if (held.size === 0) {
        clearInterval(beatTimer);
        beatTimer = undefined;
        return;
      }
      beat([...held].map((item) => item.executionId));
    }, beatMs);
    beatTimer.unref();
  }

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
        executionId: attempt.executionId,
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
      beat([item.executionId]);
      ensureBeats();
      return () => {
        if (!held.delete(item)) return;
        item.unwatch();
        deps.beats?.end(item.executionId).catch(() => undefined);
      };
    },
    close() {
      for (const item of held) item.unwatch();
      held.clear();
      if (timer) clearInterval(timer);
      timer = undefined;
      if (beatTimer) clearInterval(beatTimer);
      beatTimer = undefined;
    },
  };
}
