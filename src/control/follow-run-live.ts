/**
 * Everything a live view of one run needs, as it happens, from one
 * subscription: the run's events (after the stream id the view read), and
 * for each execution running in it the metric points it prints and its
 * newest log lines. When the run has ended (its final status event) the
 * last points and lines of every execution followed are read — they are
 * stored with each execution's end — and `end` closes the feed.
 *
 * Metric messages carry `from`, the position of their first point in the
 * execution's stored list, so a view that already holds points (from the
 * page it rendered, or before a reconnect) keeps only what is new.
 *
 * Used by the API's `GET /api/runs/:id/live` (the run and execution pages).
 */
import type { MetricsEvent } from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';
import type { RunEvent } from '../model/run-event.js';
import type { RunRecord } from '../model/run.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';
import type { ExecutionStore, RunEventFeed, RunStore } from '../store/index.js';

export type LiveMessage =
  | { kind: 'event'; id: string; event: RunEvent }
  | {
      kind: 'metrics';
      executionId: string;
      node: string;
      from: number;
      events: MetricsEvent[];
    }
  | { kind: 'tail'; executionId: string; node: string; lines: LogLine[] }
  | { kind: 'end'; status: string };

export interface RunLive {
  stop(): void;
}

/** Newest lines kept per execution for a live tail. */
export const TAIL_LINES = 30;

export function followRunLive(
  deps: { feed: RunEventFeed; runs: RunStore; executions: ExecutionStore },
  options: {
    run: RunRecord;
    /** Run stream id the view read ('0' for every event). */
    after: string;
    onMessage: (message: LiveMessage) => void;
  },
): RunLive {
  const { run, onMessage } = options;
  let stopped = false;
  let ending = false;
  const watched = new Map<
    string,
    {
      node: string;
      metricsAt: number;
      logAt: number;
      chain: Promise<void>;
      stop: () => void;
    }
  >();
  let unfollowRun: () => void = () => undefined;
  const send = (message: LiveMessage) => {
    if (!stopped) onMessage(message);
  };

  /** Runs `work` after what is queued for the execution (keeps order). */
  const queue = (executionId: string, work: () => Promise<void>) => {
    const entry = watched.get(executionId);
    if (!entry) return Promise.resolve();
    entry.chain = entry.chain.then(work).catch(() => undefined);
    return entry.chain;
  };

  const readNew = async (executionId: string) => {
    const entry = watched.get(executionId);
    if (!entry || stopped) return;
    const metrics = await deps.executions.readMetricsFrom(
      executionId,
      entry.metricsAt,
    );
    if (metrics.events.length > 0) {
      send({
        kind: 'metrics',
        executionId,
        node: entry.node,
        from: metrics.next - metrics.events.length,
        events: metrics.events,
      });
    }
    entry.metricsAt = metrics.next;
  };

  const readTail = async (executionId: string) => {
    const entry = watched.get(executionId);
    if (!entry || stopped) return;
    const lines = await deps.executions.readLog(executionId, {
      beforeSeq: Number.POSITIVE_INFINITY,
      limit: TAIL_LINES,
    });
    const fresh = lines.filter((line) => line.seq > entry.logAt);
    if (fresh.length === 0) return;
    entry.logAt = fresh[fresh.length - 1]!.seq;
    send({ kind: 'tail', executionId, node: entry.node, lines: fresh });
  };

  const watch = (executionId: string, node: string) => {
    if (watched.has(executionId) || stopped) return;
    watched.set(executionId, {
      node,
      metricsAt: 0,
      logAt: -1,
      chain: Promise.resolve(),
      stop: () => undefined,
    });
    void queue(executionId, async () => {
      await readTail(executionId);
      await readNew(executionId);
      const entry = watched.get(executionId);
      if (!entry || stopped) return;
      entry.stop = deps.feed.followLog(executionId, entry.logAt, (lines) => {
        const last = lines.slice(-TAIL_LINES);
        void queue(executionId, async () => {
          const current = watched.get(executionId);
          if (!current) return;
          const fresh = last.filter((line) => line.seq > current.logAt);
          if (fresh.length > 0) {
            current.logAt = fresh[fresh.length - 1]!.seq;
            send({ kind: 'tail', executionId, node, lines: fresh });
          }
          await readNew(executionId);
        });
      });
    });
  };

  /** The execution ended: its last lines and points, then no more. */
  const close = (executionId: string) => {
    const entry = watched.get(executionId);
    if (!entry) return Promise.resolve();
    entry.stop();
    return queue(executionId, async () => {
      await readTail(executionId);
      await readNew(executionId);
    });
  };

  const finish = async (status: string) => {
    if (ending) return;
    ending = true;
    unfollowRun();
    await Promise.all([...watched.keys()].map((id) => close(id)));
    send({ kind: 'end', status });
    stop();
  };

  const onEvent = (id: string, event: RunEvent) => {
    send({ kind: 'event', id, event });
    if (event.kind === 'node' && event.executionId) {
      if (event.status === 'started' && event.phase === 'running') {
        watch(event.executionId, event.node);
      } else if (event.status !== 'started') {
        void close(event.executionId);
      }
    }
    if (event.kind === 'run' && isFinalRunStatus(event.status)) {
      void finish(event.status);
    }
  };

  function stop() {
    if (stopped) return;
    stopped = true;
    unfollowRun();
    for (const entry of watched.values()) entry.stop();
  }

  // Executions already running when the view was read.
  for (const node of run.nodes) {
    if (node.status === 'started' && node.executionId) {
      watch(node.executionId, node.name);
    }
  }
  if (isFinalRunStatus(run.status)) {
    // Nothing more will come: what the view missed, then the end.
    void (async () => {
      let from = options.after;
      for (;;) {
        const events = await deps.runs.readRunEvents(run.id, {
          after: from,
          count: 1000,
        });
        for (const { id, event } of events) send({ kind: 'event', id, event });
        if (events.length < 1000) break;
        from = events[events.length - 1]!.id;
      }
      await finish(run.status);
    })().catch(() => void finish(run.status));
  } else {
    unfollowRun = deps.feed.followRun(run.id, options.after, (events) => {
      for (const { id, event } of events) {
        if (ending) return;
        onEvent(id, event);
      }
    });
  }
  return { stop };
}
