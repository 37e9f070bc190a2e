/**
 * `kiln schedules [ID]`: from the local store (the Redis of the settings or
 * of the data dir) or, with KILN_URL, from a remote kiln's API — the same
 * lines and the same `--json` either way.
 */
import { getSchedule, listSchedules } from '../../control/list-schedules.js';
import { describeTick } from '../../model/describe-tick.js';
import { formatTable } from '../../model/format-values.js';
import type { ScheduleView } from '../../model/schedule.js';
import { openRecords } from '../open-records.js';
import { RemoteError, remoteFromEnv } from '../remote-client.js';

export interface SchedulesOptions {
  repository?: string;
  branch?: string;
  json?: boolean;
}

export async function schedulesAction(
  id: string | undefined,
  options: SchedulesOptions,
): Promise<number> {
  let found: ScheduleView[] | ScheduleView | null;
  try {
    found = await load(id, options);
  } catch (error) {
    if (error instanceof RemoteError) {
      process.stderr.write(`kiln: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (found === null) {
    process.stderr.write(
      `kiln: no schedule ${id ?? ''}: use an id from \`kiln schedules\`\n`,
    );
    return 1;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    Array.isArray(found) ? formatList(found) : formatOne(found),
  );
  return 0;
}

async function load(
  id: string | undefined,
  options: SchedulesOptions,
): Promise<ScheduleView[] | ScheduleView | null> {
  const remote = remoteFromEnv();
  if (remote) {
    if (id) {
      try {
        return await remote.get<ScheduleView>(
          `/api/schedules/${encodeURIComponent(id)}`,
        );
      } catch (error) {
        if (error instanceof RemoteError && error.status === 404) return null;
        throw error;
      }
    }
    const query = new URLSearchParams({
      ...(options.repository ? { repository: options.repository } : {}),
      ...(options.branch ? { branch: options.branch } : {}),
      ticks: '1',
    });
    const { schedules } = await remote.get<{ schedules: ScheduleView[] }>(
      `/api/schedules?${query.toString()}`,
    );
    return schedules;
  }
  const engine = await openRecords();
  try {
    const deps = {
      schedules: engine.schedules.store,
      queue: engine.schedules.queue,
    };
    if (id) return await getSchedule(deps, { id, ticks: 100 });
    return await listSchedules(deps, {
      repository: options.repository,
      branch: options.branch,
      ticks: 1,
    });
  } finally {
    await engine.close();
  }
}

function formatList(schedules: ScheduleView[]): string {
  if (schedules.length === 0) {
    return 'no schedules: add a trigger with a schedule to kiln.yaml and push it\n';
  }
  return `${formatTable(
    [
      'id',
      'repository',
      'branch',
      'trigger',
      'runs',
      'cron',
      'time zone',
      'missed',
      'next tick',
      'last tick',
    ],
    schedules.map((schedule) => {
      const last = schedule.ticks[0];
      return [
        schedule.id,
        schedule.repository,
        schedule.branch,
        schedule.trigger,
        schedule.run,
        schedule.cron,
        schedule.timezone,
        schedule.missed,
        schedule.nextTickAt ?? 'none planned',
        last ? `${last.at} ${describeTick(last)}` : '',
      ];
    }),
  )}\n`;
}

function formatOne(schedule: ScheduleView): string {
  const lines = [
    `schedule ${schedule.id}: trigger ${schedule.trigger} of ${schedule.repository} ${schedule.branch}`,
    `  runs ${schedule.run}${Object.keys(schedule.parameters).length > 0 ? ` with ${JSON.stringify(schedule.parameters)}` : ''}`,
    `  cron ${schedule.cron} (${schedule.timezone}), missed: ${schedule.missed}`,
    `  next tick ${schedule.nextTickAt ?? 'none planned'}`,
    `  taken from ${schedule.configFile} at ${schedule.commit.slice(0, 12)} (${schedule.updatedAt})`,
    schedule.ticks.length > 0 ? '  ticks, newest first:' : '  no ticks yet',
    ...schedule.ticks.map((tick) => `    ${tick.at}  ${describeTick(tick)}`),
  ];
  return `${lines.join('\n')}\n`;
}
