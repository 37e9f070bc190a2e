/**
 * Schedules from pushes and their ticks, in one process on real Redis,
 * BullMQ job schedulers and git: which push sets which schedules, when
 * BullMQ's plan is left alone, and what one tick does — on time, late under
 * each policy, and when the branch, file or trigger is gone. Tick times are
 * passed in, so nothing here waits for a clock (the service test does).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runScheduleTick } from '../../../src/control/run-schedule-tick.js';
import {
  scheduledRunIdFor,
  scheduleIdFor,
} from '../../../src/control/schedule-id.js';
import { syncSchedules } from '../../../src/control/sync-schedules.js';
import { nextTick } from '../../../src/config/cron-schedule.js';
import { haveRedis } from '../../helpers/services.js';
import {
  REPOSITORY,
  startScheduleFixture,
  type ScheduleFixture,
} from './schedule-fixture.js';

interface ScheduleOptions {
  cron?: string;
  branch?: string;
  missed?: 'skip' | 'run-once';
  timezone?: string;
  epochs?: number;
}

function trigger(name: string, options: ScheduleOptions = {}): string {
  const lines = [
    `- trigger:`,
    `    name: ${name}`,
    `    schedule:`,
    `      cron: '${options.cron ?? '0 3 * * *'}'`,
    ...(options.timezone ? [`      timezone: ${options.timezone}`] : []),
    ...(options.branch ? [`      branch: ${options.branch}`] : []),
    ...(options.missed ? [`      missed: ${options.missed}`] : []),
    `    run: train`,
    `    parameters:`,
    `      epochs: ${options.epochs ?? 1}`,
  ];
  return `${lines.join('\n')}\n`;
}

function kilnYaml(...triggers: string[]): string {
  return `- step:
    name: train
    image: busybox
    command: echo train {parameters}
    parameters:
      - name: epochs
        type: integer
        default: 1
${triggers.join('')}`;
}

const at = (iso: string) => Date.parse(iso);

describe.skipIf(!haveRedis())('schedules', () => {
  let fixture: ScheduleFixture;

  beforeAll(async () => {
    fixture = await startScheduleFixture();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  async function sync(
    branch: string,
    files: Record<string, string>,
    options: { pushedAt?: number } = {},
  ) {
    const sha = fixture.push(branch, files);
    const [push, pushed] = fixture.pushed(branch, sha, options);
    return { sha, outcome: await syncSchedules(fixture.deps, push, pushed) };
  }

  const idOf = (trigger: string, branch = 'main') =>
    scheduleIdFor({ repository: REPOSITORY, branch, trigger });

  async function delayedJobOf(id: string) {
    const jobs = await fixture.bullQueue.getDelayed();
    return jobs.find((job) => job.id?.startsWith(`repeat:${id}:`));
  }

  describe('taken from pushes', () => {
    beforeEach(async () => {
      // Each case starts from a branch with no schedules.
      await sync('main', { 'kiln.yaml': kilnYaml() });
    });

    it("takes a branch's schedules from its own file, each with its next tick from BullMQ", async () => {
      const { sha, outcome } = await sync('main', {
        'kiln.yaml': kilnYaml(
          trigger('nightly', { timezone: 'Europe/Helsinki', epochs: 7 }),
          trigger('hourly', { cron: '@hourly', branch: 'main' }),
          trigger('release-nightly', { branch: 'release' }),
        ),
      });

      expect(outcome).toEqual({
        added: ['nightly', 'hourly'],
        changed: [],
        removed: [],
      });
      const records = await fixture.deps.schedules.list({
        repository: REPOSITORY,
      });
      expect(records.map((record) => record.trigger)).toEqual([
        'hourly',
        'nightly',
      ]);
      expect(records[1]).toMatchObject({
        id: idOf('nightly'),
        repository: REPOSITORY,
        branch: 'main',
        run: 'train',
        parameters: { epochs: 7 },
        cron: '0 3 * * *',
        timezone: 'Europe/Helsinki',
        missed: 'run-once',
        source: fixture.source,
        commit: sha,
        configFile: 'kiln.yaml',
      });
      const next = await fixture.deps.queue.timing(idOf('nightly'));
      expect(next).toEqual({ cron: '0 3 * * *', timezone: 'Europe/Helsinki' });
      const job = await delayedJobOf(idOf('nightly'));
      expect(job?.id).toBe(
        `repeat:${idOf('nightly')}:${nextTick(
          { cron: '0 3 * * *', timezone: 'Europe/Helsinki' },
          job?.timestamp ?? 0,
        )}`,
      );
    });

    it('leaves the planned tick alone when only the run changes, and re-plans a changed cron', async () => {
      await sync('main', {
        'kiln.yaml': kilnYaml(
          trigger('a', { epochs: 1 }),
          trigger('b', { cron: '0 4 * * *' }),
        ),
      });
      const jobA = await delayedJobOf(idOf('a'));
      const jobB = await delayedJobOf(idOf('b'));

      const { outcome } = await sync('main', {
        'kiln.yaml': kilnYaml(
          trigger('a', { epochs: 2, missed: 'skip' }),
          trigger('b', { cron: '0 5 * * *' }),
        ),
      });

      expect(outcome).toEqual({ added: [], changed: ['a', 'b'], removed: [] });
      // Same job, same creation time: BullMQ was not asked again.
      const afterA = await delayedJobOf(idOf('a'));
      expect({ id: afterA?.id, at: afterA?.timestamp }).toEqual({
        id: jobA?.id,
        at: jobA?.timestamp,
      });
      expect((await fixture.deps.schedules.get(idOf('a')))?.parameters).toEqual(
        { epochs: 2 },
      );
      const afterB = await delayedJobOf(idOf('b'));
      expect(afterB?.id).not.toBe(jobB?.id);
      expect(await fixture.deps.queue.timing(idOf('b'))).toEqual({
        cron: '0 5 * * *',
        timezone: 'UTC',
      });
      expect(await fixture.bullQueue.getJobSchedulersCount()).toBe(2);
    });

    it('removes a schedule whose trigger left the file, on the next push to its branch', async () => {
      await sync('main', {
        'kiln.yaml': kilnYaml(trigger('keep'), trigger('drop')),
      });

      const { outcome } = await sync('main', {
        'kiln.yaml': kilnYaml(trigger('keep')),
      });

      expect(outcome).toEqual({ added: [], changed: [], removed: ['drop'] });
      expect(await fixture.deps.schedules.get(idOf('drop'))).toBeNull();
      expect(await fixture.deps.queue.timing(idOf('drop'))).toBeNull();
      expect(await delayedJobOf(idOf('drop'))).toBeUndefined();
      expect(await fixture.deps.queue.timing(idOf('keep'))).not.toBeNull();
    });

    it('changes nothing for a file with errors, or for a push older than the last one taken', async () => {
      await sync('main', { 'kiln.yaml': kilnYaml(trigger('kept')) });

      const invalid = await sync('main', {
        'kiln.yaml': kilnYaml(trigger('kept', { cron: '61 * * * *' })),
      });
      const older = await sync(
        'main',
        { 'kiln.yaml': kilnYaml() },
        { pushedAt: Date.now() - 60_000 },
      );

      expect(invalid.outcome.ignored).toBe(
        'kiln.yaml has errors: schedules unchanged',
      );
      expect(older.outcome.ignored).toBe(
        'a later push to the branch already set its schedules',
      );
      expect((await fixture.deps.schedules.get(idOf('kept')))?.cron).toBe(
        '0 3 * * *',
      );
    });

    it('takes schedules naming another branch only from that branch, and drops them when it is deleted', async () => {
      const release = kilnYaml(trigger('r', { branch: 'release' }));
      await sync('main', { 'kiln.yaml': release });
      expect(await fixture.deps.schedules.get(idOf('r', 'release'))).toBeNull();

      await sync('release', { 'kiln.yaml': release });
      expect(
        (await fixture.deps.schedules.get(idOf('r', 'release')))?.branch,
      ).toBe('release');

      const [push] = fixture.pushed('release', 'unused', { file: null });
      const outcome = await syncSchedules(fixture.deps, push, null);
      expect(outcome.removed).toEqual(['r']);
      expect(await fixture.deps.queue.timing(idOf('r', 'release'))).toBeNull();
      fixture.push('main', {});
    });

    it('removes the schedules of a branch whose push has no kiln.yaml any more', async () => {
      await sync('main', { 'kiln.yaml': kilnYaml(trigger('gone')) });
      const sha = fixture.push('main', {});
      const [push] = fixture.pushed('main', sha);

      const outcome = await syncSchedules(fixture.deps, push, {
        source: fixture.source,
        commit: sha,
        config: null,
      });

      expect(outcome.removed).toEqual(['gone']);
    });
  });

  describe('a tick', () => {
    const tickAt = at('2026-01-05T03:00:00Z');
    const oneDay = 24 * 3600 * 1000;
    let head: string;

    beforeAll(async () => {
      await sync('main', {
        'kiln.yaml': kilnYaml(
          trigger('on-time', { epochs: 3 }),
          trigger('late-once', { epochs: 4 }),
          trigger('late-skip', { missed: 'skip' }),
          trigger('gone-later'),
        ),
      });
      // A later commit with no new sync: the tick runs the head as it is
      // then, and the trigger as that file has it.
      head = fixture.push('main', {
        'kiln.yaml': kilnYaml(
          trigger('on-time', { epochs: 5 }),
          trigger('late-once', { epochs: 4 }),
          trigger('late-skip', { missed: 'skip' }),
        ),
        'train.py': 'print(1)\n',
      });
    });

    it('on time: runs the branch head as it is at the tick, pinned to it, trusted, once however often it is handled', async () => {
      const input = {
        scheduleId: idOf('on-time'),
        tickAt,
        takenAt: tickAt + 40,
      };

      const first = await runScheduleTick(fixture.deps, input);
      const again = await runScheduleTick(fixture.deps, {
        ...input,
        takenAt: tickAt + 2 * oneDay,
      });

      expect(first).toMatchObject({
        at: '2026-01-05T03:00:00.000Z',
        outcome: 'run',
        runId: scheduledRunIdFor(idOf('on-time'), tickAt),
        commit: head,
      });
      expect(first.missed).toBeUndefined();
      expect(again).toEqual(first);
      const run = await fixture.deps.control.runs.getRun(first.runId ?? '');
      expect(run).toMatchObject({
        repository: REPOSITORY,
        commit: head,
        ref: 'refs/heads/main',
        name: 'train',
        parameters: { epochs: 5 },
        status: 'queued',
        trusted: true,
        trigger: {
          event: 'schedule',
          schedule: idOf('on-time'),
          tickAt: '2026-01-05T03:00:00.000Z',
        },
      });
      const runs = await fixture.deps.control.runs.listRuns({
        repository: REPOSITORY,
        limit: 100,
      });
      expect(runs.filter((item) => item.id === first.runId)).toHaveLength(1);
      expect(
        await fixture.deps.schedules.listTicks(idOf('on-time'), 10),
      ).toEqual([first]);
    });

    it('late with missed: run-once — one run standing for every tick that passed', async () => {
      const tick = await runScheduleTick(fixture.deps, {
        scheduleId: idOf('late-once'),
        tickAt,
        // Three more daily ticks passed while no kiln ran.
        takenAt: tickAt + 3 * oneDay + 3_600_000,
      });

      expect(tick).toMatchObject({
        outcome: 'run',
        runId: scheduledRunIdFor(idOf('late-once'), tickAt),
        missed: {
          count: 4,
          first: '2026-01-05T03:00:00.000Z',
          last: '2026-01-08T03:00:00.000Z',
        },
      });
      expect(
        (await fixture.deps.control.runs.getRun(tick.runId ?? ''))?.parameters,
      ).toEqual({ epochs: 4 });
    });

    it('late with missed: skip — recorded as missed, no run', async () => {
      const tick = await runScheduleTick(fixture.deps, {
        scheduleId: idOf('late-skip'),
        tickAt,
        takenAt: tickAt + oneDay,
      });

      expect(tick).toMatchObject({
        outcome: 'missed',
        missed: {
          count: 2,
          first: '2026-01-05T03:00:00.000Z',
          last: '2026-01-06T03:00:00.000Z',
        },
        reason: 'no kiln server was running at these ticks (missed: skip)',
      });
      expect(tick.runId).toBeUndefined();
      expect(
        await fixture.deps.control.runs.getRun(
          scheduledRunIdFor(idOf('late-skip'), tickAt),
        ),
      ).toBeNull();
    });

    it('skips a tick whose trigger is no longer in the file at the branch head', async () => {
      const tick = await runScheduleTick(fixture.deps, {
        scheduleId: idOf('gone-later'),
        tickAt,
        takenAt: tickAt + 5,
      });

      expect(tick).toMatchObject({
        outcome: 'skipped',
        commit: head,
        reason: `trigger "gone-later" is no longer in kiln.yaml at ${head.slice(0, 12)}`,
      });
    });

    it('makes a failed run showing the findings when the file at the head has errors', async () => {
      await sync('broken', {
        'kiln.yaml': kilnYaml(trigger('b', { branch: 'broken' })),
      });
      fixture.push('broken', {
        'kiln.yaml': `${kilnYaml()}- step: {name: x}\n`,
      });

      const tick = await runScheduleTick(fixture.deps, {
        scheduleId: idOf('b', 'broken'),
        tickAt,
        takenAt: tickAt + 5,
      });

      expect(tick.outcome).toBe('run');
      const run = await fixture.deps.control.runs.getRun(tick.runId ?? '');
      expect(run?.status).toBe('error');
      expect(run?.reason).toContain('kiln.yaml:');
    });

    it('fails a tick whose branch is gone, saying so', async () => {
      await sync('short-lived', {
        'kiln.yaml': kilnYaml(trigger('s', { branch: 'short-lived' })),
      });
      fixture.deleteBranch('short-lived');

      const tick = await runScheduleTick(fixture.deps, {
        scheduleId: idOf('s', 'short-lived'),
        tickAt,
        takenAt: tickAt + 5,
      });

      expect(tick).toMatchObject({
        outcome: 'failed',
        reason: `there is no branch short-lived in ${REPOSITORY}`,
      });
    });

    it('drops the job scheduler of a schedule whose record is gone', async () => {
      await sync('orphan', {
        'kiln.yaml': kilnYaml(trigger('o', { branch: 'orphan' })),
      });
      await fixture.deps.schedules.remove(idOf('o', 'orphan'));

      const tick = await runScheduleTick(fixture.deps, {
        scheduleId: idOf('o', 'orphan'),
        tickAt,
        takenAt: tickAt + 5,
      });

      expect(tick.outcome).toBe('skipped');
      expect(await fixture.deps.queue.timing(idOf('o', 'orphan'))).toBeNull();
    });
  });
});
