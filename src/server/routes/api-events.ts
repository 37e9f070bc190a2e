/**
 * Live changes over Server-Sent Events, from the run event streams:
 * `GET /api/runs/:id/events` (a run's every change, ending after its last
 * status), `GET /api/runs/:id/live` (the same plus the metric points and
 * newest log lines of its running executions: what a run page shows) and
 * `GET /api/events` (every run's status changes, for lists; `?runs=`
 * adds the node changes of the runs a list shows).
 * Each message's `id` is its stream id: reconnecting with `Last-Event-ID`
 * (browsers do) or `?after=` resumes right after it. `?after=0` replays
 * what the stream still holds.
 */
import { Router } from 'express';
import { followRunLive } from '../../control/follow-run-live.js';
import { isFinalRunStatus } from '../../orchestrator/run-machine.js';
import {
  openEventStream,
  resumePoint,
  STREAM_ID,
} from '../../http/send-event-stream.js';
import {
  ApiError,
  checkId,
  readString,
  type ApiContext,
} from '../../http/api-context.js';

// Each open stream costs a subscription on the process's one follower.
const maxStreams = 2000;

export function createApiEventsRouter(context: ApiContext): Router {
  const { deps, auth } = context;
  const router = Router();
  const read = auth.requireRole('read');
  let open = 0;

  function admit(): () => void {
    if (!deps.feed) {
      throw new ApiError(503, 'live updates are not available on this server');
    }
    if (open >= maxStreams)
      throw new ApiError(503, 'too many open event streams: retry in a moment');
    open += 1;
    let released = false;
    return () => {
      if (!released) open -= 1;
      released = true;
    };
  }

  router.get('/api/runs/:id/events', read, async (req, res) => {
    const run = await deps.control.runs.getRunHeader(
      checkId(req.params.id, 'run'),
    );
    if (!run) throw new ApiError(404, `no run ${String(req.params.id)}`);
    const release = admit();
    const after = resumePoint(req, STREAM_ID, '0');
    let unfollow = () => undefined as void;
    const stream = openEventStream(req, res, () => {
      unfollow();
      release();
    });
    if (isFinalRunStatus(run.status)) {
      // Nothing more will come: what the client missed, then the end.
      let from = after;
      for (;;) {
        const events = await deps.control.runs.readRunEvents(run.id, {
          after: from,
          count: 1000,
        });
        for (const { id, event } of events)
          stream.send({ id, event: event.kind, data: event });
        if (events.length < 1000) break;
        from = events[events.length - 1]!.id;
      }
      stream.end({ status: run.status });
      return;
    }
    unfollow = deps.feed!.followRun(run.id, after, (events) => {
      for (const { id, event } of events) {
        stream.send({ id, event: event.kind, data: event });
        if (event.kind === 'run' && isFinalRunStatus(event.status)) {
          stream.end({ status: event.status });
          return;
        }
      }
    });
  });

  router.get('/api/runs/:id/live', read, async (req, res) => {
    const run = await deps.control.runs.getRun(checkId(req.params.id, 'run'));
    if (!run) throw new ApiError(404, `no run ${String(req.params.id)}`);
    const release = admit();
    const after = resumePoint(req, STREAM_ID, '0');
    let stop = () => undefined as void;
    const stream = openEventStream(req, res, () => {
      stop();
      release();
    });
    stop = followRunLive(
      { feed: deps.feed!, ...deps.control },
      {
        run,
        after,
        onMessage(message) {
          switch (message.kind) {
            case 'event':
              stream.send({
                id: message.id,
                event: message.event.kind,
                data: message.event,
              });
              return;
            case 'end':
              stream.end({ status: message.status });
              return;
            default: {
              // No id: a reconnect resumes the run's events, and the
              // points and lines come again from the start (`from`).
              const { kind, ...data } = message;
              stream.send({ event: kind, data });
            }
          }
        },
      },
    ).stop;
  });

  router.get('/api/events', read, async (req, res) => {
    const listed = readString(req.query.runs, 'runs', 4000);
    const runIds = (listed ?? '')
      .split(',')
      .filter((id) => /^[A-Za-z0-9._-]{1,128}$/.test(id))
      .slice(0, 100);
    const release = admit();
    const after = resumePoint(req, STREAM_ID, '$');
    const stops: Array<() => void> = [];
    const stream = openEventStream(req, res, () => {
      for (const stop of stops) stop();
      release();
    });
    stops.push(
      deps.feed!.followAll(after, (events) => {
        for (const { id, event } of events)
          stream.send({ id, event: event.kind, data: event });
      }),
    );
    // Node changes of the listed runs, from now, without ids: the global
    // position is what a reconnect resumes (the list re-reads its rows).
    for (const runId of runIds) {
      stops.push(
        deps.feed!.followRun(runId, '$', (events) => {
          for (const { event } of events)
            if (event.kind !== 'run')
              stream.send({ event: event.kind, data: event });
        }),
      );
    }
  });

  return router;
}
