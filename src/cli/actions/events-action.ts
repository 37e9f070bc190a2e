/**
 * `kiln events [RUN]`: run events from the local store's streams, or from
 * a remote kiln's SSE API with KILN_URL — the same lines, and the same
 * `--json` (one object per line, with its stream `id`), either way.
 */
import type { RunEvent, StoredRunEvent } from '../../model/run-event.js';
import { isFinalRunStatus } from '../../orchestrator/run-machine.js';
import { openRecords } from '../open-records.js';
import { RemoteError, remoteFromEnv } from '../remote-client.js';

export interface EventsOptions {
  json?: boolean;
  follow: boolean;
  after?: string;
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

export async function eventsAction(
  runId: string | undefined,
  options: EventsOptions,
): Promise<number> {
  if (options.after !== undefined && !STREAM_ID.test(options.after)) {
    process.stderr.write(
      `kiln: --after ${JSON.stringify(options.after)} is not an event id (like 1765012345678-0, from --json)\n`,
    );
    return 2;
  }
  const print = (stored: StoredRunEvent) =>
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ id: stored.id, ...stored.event })}\n`
        : `${describeEvent(stored.event)}\n`,
    );
  const remote = remoteFromEnv();
  if (remote) {
    const path = runId
      ? `/api/runs/${encodeURIComponent(runId)}/events`
      : '/api/events';
    try {
      await remote.followEvents(
        path,
        options.after ?? (runId ? '0' : undefined),
        (event, data) => {
          if (event === 'message') return;
          const parsed = JSON.parse(data) as RunEvent & { id?: string };
          print({ id: '', event: parsed });
          return !options.follow && !runId ? 'stop' : undefined;
        },
      );
      return 0;
    } catch (error) {
      if (error instanceof RemoteError) {
        process.stderr.write(`kiln: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
  }
  const engine = await openRecords();
  try {
    const { runs } = engine.deps;
    if (runId) {
      const run = await runs.getRunHeader(runId);
      if (!run) {
        process.stderr.write(`kiln: no run ${runId} in this store\n`);
        return 1;
      }
      if (!options.follow || isFinalRunStatus(run.status)) {
        let after = options.after;
        for (;;) {
          const events = await runs.readRunEvents(runId, {
            after,
            count: 1000,
          });
          events.forEach(print);
          if (events.length < 1000) return 0;
          after = events[events.length - 1]?.id;
        }
      }
      await new Promise<void>((resolve) => {
        const stop = engine.feed.followRun(
          runId,
          options.after ?? '0',
          (events) => {
            for (const stored of events) {
              print(stored);
              if (
                stored.event.kind === 'run' &&
                isFinalRunStatus(stored.event.status)
              ) {
                stop();
                resolve();
                return;
              }
            }
          },
        );
      });
      return 0;
    }
    if (!options.follow) {
      const events = await runs.readEvents({
        after: options.after,
        count: 100_000,
      });
      events.slice(-100).forEach(print);
      return 0;
    }
    // Every run's status changes from now (or --after) until Ctrl-C.
    await new Promise<void>((resolve) => {
      const stop = engine.feed.followAll(options.after ?? '$', (events) =>
        events.forEach(print),
      );
      process.once('SIGINT', () => {
        stop();
        resolve();
      });
    });
    return 0;
  } finally {
    await engine.close();
  }
}

/** One readable line per event. */
export function describeEvent(event: RunEvent): string {
  switch (event.kind) {
    case 'run':
      return `${event.at}  run ${event.runId} #${event.counter} ${event.name} (${event.repository}${event.ref ? ` ${event.ref}` : ''})  ${event.status}${event.reason ? ` — ${event.reason}` : ''}`;
    case 'node':
      return `${event.at}  run ${event.runId} node ${event.node}  ${event.status}${event.phase ? ` (${event.phase})` : ''} attempt ${event.attempt}${event.executionId ? ` ${event.executionId}` : ''}${event.message ? ` — ${event.message}` : ''}`;
    case 'nodes':
      return `${event.at}  run ${event.runId} nodes ${event.nodes.join(', ')}  ${event.status}${event.message ? ` — ${event.message}` : ''}`;
  }
}
