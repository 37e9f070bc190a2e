/**
 * Live views of runs for the UI, `kiln run`, `kiln events` and `kiln logs
 * -f`: a run's events, every run's status changes, an execution's log
 * lines — each from a position the consumer names (what it saw last), then
 * as they happen. Consumers resume after a reconnect from their last id and
 * so miss nothing and see nothing twice. All of it over the process's one
 * stream follower.
 *
 * Contract: callbacks receive items in order, never after unsubscribing;
 * they must not throw (a thrown error is logged by the follower).
 */
import type { LogLine } from '../model/log-line.js';
import type { StoredRunEvent } from '../model/run-event.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import type { StreamFollower } from '../redis/stream-follower.js';
import { toLogLine } from './log-stream.js';
import { parseRunEvent } from './parse-run-event.js';

export interface RunEventFeed {
  /** A run's events after stream id `after` ('0' for all, '$' for new ones). */
  followRun(
    runId: string,
    after: string,
    onEvents: (events: StoredRunEvent[]) => void,
  ): () => void;
  /** Every run's status changes after `after`. */
  followAll(
    after: string,
    onEvents: (events: StoredRunEvent[]) => void,
  ): () => void;
  /** An execution's log lines with a seq above `afterSeq` (-1 for all). */
  followLog(
    executionId: string,
    afterSeq: number,
    onLines: (lines: LogLine[]) => void,
  ): () => void;
}

export function createRunEventFeed(
  follower: StreamFollower,
  keys: RedisKeys,
): RunEventFeed {
  const events =
    (onEvents: (events: StoredRunEvent[]) => void) =>
    (entries: Array<[string, string[]]>) => {
      const parsed = entries.flatMap(([id, fields]) => {
        const event = parseRunEvent(fields);
        return event ? [{ id, event }] : [];
      });
      if (parsed.length > 0) onEvents(parsed);
    };
  return {
    followRun(runId, after, onEvents) {
      return follower.follow(keys.runEvents(runId), after, events(onEvents));
    },
    followAll(after, onEvents) {
      return follower.follow(keys.events, after, events(onEvents));
    },
    followLog(executionId, afterSeq, onLines) {
      const after = afterSeq < 0 ? '0-0' : `${Math.trunc(afterSeq)}-1`;
      return follower.follow(keys.log(executionId), after, (entries) =>
        onLines(entries.map(([id, fields]) => toLogLine(id, fields))),
      );
    },
  };
}
