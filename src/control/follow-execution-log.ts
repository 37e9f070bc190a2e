/**
 * An execution's log as it grows: every stored line after `afterSeq`, then
 * each new one, until the execution has ended — its node's event in the
 * run's stream says so — and its last lines (stored with its end) are read.
 * Resolves the status it ended with; `stop()` ends it early (the reader
 * went away). Used by the API's log stream and `kiln logs -f`.
 */
import type { ExecutionRecord } from '../model/execution.js';
import { TERMINAL_STATUSES } from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';
import type { RunEvent } from '../model/run-event.js';
import type { ExecutionStore, RunEventFeed } from '../store/index.js';

const BATCH = 1000;

export interface LogFollow {
  /** Resolves with the status the execution ended with (or 'stopped early'). */
  done: Promise<string>;
  stop(): void;
}

export function followExecutionLog(
  deps: { feed: RunEventFeed; executions: ExecutionStore },
  options: {
    execution: ExecutionRecord;
    afterSeq: number;
    onLines: (lines: readonly LogLine[]) => void;
  },
): LogFollow {
  const { execution } = options;
  let after = options.afterSeq;
  let finished = false;
  const stops: Array<() => void> = [];
  let resolve: (status: string) => void = () => undefined;
  const done = new Promise<string>((settle) => (resolve = settle));

  const deliver = (lines: readonly LogLine[]) => {
    const fresh = lines.filter((line) => line.seq > after);
    if (fresh.length === 0 || finished) return;
    after = fresh[fresh.length - 1]!.seq;
    options.onLines(fresh);
  };
  const finish = async (status: string) => {
    if (finished) return;
    for (const stop of stops) stop();
    for (;;) {
      const rest = await deps.executions.readLog(execution.id, {
        afterSeq: after < 0 ? undefined : after,
        limit: BATCH,
      });
      deliver(rest);
      if (rest.length < BATCH) break;
    }
    finished = true;
    resolve(status);
  };

  if (TERMINAL_STATUSES.includes(execution.status) || !execution.runId) {
    finish(execution.status).catch(() => resolve(execution.status));
  } else {
    stops.push(deps.feed.followLog(execution.id, after, deliver));
    stops.push(
      deps.feed.followRun(execution.runId, '0', (events) => {
        for (const { event } of events) {
          if (endsExecution(event, execution)) {
            finish(event.status).catch(() => resolve(event.status));
            return;
          }
        }
      }),
    );
  }
  return {
    done,
    stop() {
      for (const stop of stops) stop();
      if (!finished) {
        finished = true;
        resolve('stopped early');
      }
    },
  };
}

/** Whether a run event says this execution's attempt is over. */
function endsExecution(event: RunEvent, execution: ExecutionRecord): boolean {
  if (event.kind === 'node') {
    return (
      event.node === execution.node &&
      event.status !== 'started' &&
      event.executionId === execution.id
    );
  }
  return (
    event.kind === 'nodes' &&
    execution.node !== undefined &&
    event.nodes.includes(execution.node) &&
    event.status !== 'queued' &&
    event.status !== 'pending'
  );
}
