/**
 * The schedules' read side for the API and the pages: the schedule store
 * and a BullMQ queue object for next ticks, on the server's own Redis
 * client, made once per server on first use (a server never asked about
 * schedules opens no queue object).
 */
import type { ScheduleReadDeps } from '../control/list-schedules.js';
import { createScheduleQueue } from '../queue/schedule-queue.js';
import { createScheduleStore } from '../store/schedule-store.js';
import type { ServerDeps } from './server-deps.js';

const made = new WeakMap<ServerDeps, ScheduleReadDeps>();

export function scheduleReaderFor(deps: ServerDeps): ScheduleReadDeps {
  let reader = made.get(deps);
  if (!reader) {
    reader = {
      schedules: createScheduleStore(deps.redis, deps.keys),
      queue: createScheduleQueue({
        connection: deps.redis,
        bullPrefix: deps.keys.bullPrefix,
      }),
    };
    made.set(deps, reader);
  }
  return reader;
}
