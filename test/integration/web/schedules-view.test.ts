/**
 * Schedules as users read them: `GET /api/schedules` and
 * `/api/schedules/:id` (checked against api/openapi.json), the Schedules
 * pages, and `kiln schedules` (the real CLI) against the local store and
 * against the server — each with the next tick BullMQ has planned and the
 * ticks missed while kiln was down.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextTick } from '../../../src/config/cron-schedule.js';
import type { ScheduleView } from '../../../src/model/schedule.js';
import { haveRedis } from '../../helpers/services.js';
import { responseErrors } from './openapi-check.js';
import { seedSchedules, type SeededSchedules } from './seed-schedules.js';
import { REPOSITORY, startWebFixture, type WebFixture } from './web-fixture.js';

const run = promisify(execFile);
const kiln = join(process.cwd(), 'bin', 'kiln.js');

describe.skipIf(!haveRedis())(
  'schedules in the API, the pages and the CLI',
  () => {
    let fixture: WebFixture;
    let seeded: SeededSchedules;
    let dataDir: string;

    beforeAll(async () => {
      fixture = await startWebFixture();
      seeded = await seedSchedules(fixture);
      dataDir = mkdtempSync(join(tmpdir(), 'kiln-cli-schedules-'));
    }, 60_000);
    afterAll(async () => {
      await seeded?.close();
      await fixture?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    async function getJson(path: string, status = 200): Promise<unknown> {
      const response = await fixture.request(path, {
        token: fixture.viewerToken,
      });
      const body: unknown = await response.json();
      expect({ path, status: response.status }).toEqual({ path, status });
      return body;
    }

    it('lists schedules with their next tick, the latest ticks first', async () => {
      const before = Date.now();

      const body = (await getJson('/api/schedules')) as {
        schedules: ScheduleView[];
      };

      expect(
        responseErrors({
          path: '/api/schedules',
          method: 'get',
          status: 200,
          body,
        }),
      ).toEqual([]);
      expect(body.schedules.map((item) => item.trigger)).toEqual([
        'hourly',
        'nightly',
      ]);
      const nightly = body.schedules[1];
      expect(nightly).toMatchObject({
        id: seeded.nightly,
        repository: REPOSITORY,
        branch: 'main',
        run: 'train',
        parameters: { epochs: 20 },
        cron: '30 2 * * 1-5',
        timezone: 'Europe/Helsinki',
        missed: 'skip',
      });
      expect(Date.parse(nightly?.nextTickAt ?? '')).toBe(
        nextTick({ cron: '30 2 * * 1-5', timezone: 'Europe/Helsinki' }, before),
      );
      expect(nightly?.ticks.map((tick) => [tick.at, tick.outcome])).toEqual([
        ['2026-03-03T00:30:00.000Z', 'missed'],
        ['2026-03-02T00:30:00.000Z', 'run'],
      ]);
    });

    it('filters by repository and refuses a bad query', async () => {
      const other = (await getJson(
        '/api/schedules?repository=acme%2Fother',
      )) as {
        schedules: ScheduleView[];
      };
      const bad = await getJson('/api/schedules?ticks=many', 400);

      expect(other.schedules).toEqual([]);
      expect(
        responseErrors({
          path: '/api/schedules',
          method: 'get',
          status: 400,
          body: bad,
        }),
      ).toEqual([]);
    });

    it('shows one schedule with its ticks, 404 for an unknown one, 401 without a token', async () => {
      const one = (await getJson(
        `/api/schedules/${seeded.hourly}`,
      )) as ScheduleView;
      const unknown = await getJson('/api/schedules/s000000', 404);
      const anonymous = await fixture.request('/api/schedules');

      for (const [status, body] of [
        [200, one],
        [404, unknown],
        [401, await anonymous.json()],
      ] as const) {
        expect(
          responseErrors({
            path: '/api/schedules/{id}',
            method: 'get',
            status,
            body,
          }),
        ).toEqual([]);
      }
      expect(anonymous.status).toBe(401);
      expect(one.ticks.map((tick) => tick.outcome)).toEqual(['failed', 'run']);
      expect(one.ticks[1]?.missed?.count).toBe(2);
    });

    it('renders the Schedules page and a schedule page with the missed ticks marked', async () => {
      const list = await fixture.request('/schedules', {
        token: fixture.viewerToken,
      });
      const page = await fixture.request(`/schedules/${seeded.nightly}`, {
        token: fixture.viewerToken,
      });
      const missing = await fixture.request('/schedules/s000000', {
        token: fixture.viewerToken,
      });

      const listHtml = await list.text();
      expect(list.status).toBe(200);
      expect(listHtml).toMatch(
        /<a href="\/schedules"[^>]*>\s*Schedules\s*<\/a\s*>/,
      );
      expect(listHtml).toContain(`data-schedule="${seeded.nightly}"`);
      expect(listHtml).toContain('missed 3');
      expect(listHtml).toContain('ran once for 2');
      expect(listHtml).toContain(`href="/runs/${seeded.runIds.late}"`);
      const pageHtml = await page.text();
      expect(page.status).toBe(200);
      expect(pageHtml).toContain(
        '3 ticks, 2026-03-03 00:30:00 to 2026-03-05 00:30:00',
      );
      expect(pageHtml).toContain('skipped (missed: skip)');
      expect(missing.status).toBe(404);
    });

    it('`kiln schedules` prints the same from the local store and from the server', async () => {
      const local = await run('node', [kiln, 'schedules'], {
        env: {
          ...process.env,
          KILN_URL: '',
          REDIS_URL: fixture.redis.url,
          KILN_REDIS_PREFIX: 'kw',
          KILN_DATA_DIR: dataDir,
          KILN_LOG_LEVEL: 'silent',
        },
        timeout: 60_000,
      });
      const remote = await run('node', [kiln, 'schedules'], {
        env: {
          ...process.env,
          KILN_URL: fixture.url,
          KILN_TOKEN: fixture.viewerToken,
          KILN_LOG_LEVEL: 'silent',
        },
        timeout: 60_000,
      });
      const one = await run(
        'node',
        [kiln, 'schedules', seeded.nightly, '--json'],
        {
          env: {
            ...process.env,
            KILN_URL: fixture.url,
            KILN_TOKEN: fixture.viewerToken,
            KILN_LOG_LEVEL: 'silent',
          },
          timeout: 60_000,
        },
      );

      expect(remote.stdout).toBe(local.stdout);
      const lines = local.stdout.trim().split('\n');
      expect(lines[0]).toMatch(
        /^id\s+repository\s+branch\s+trigger\s+runs\s+cron\s+time zone\s+missed\s+next tick\s+last tick$/,
      );
      expect(lines[3]).toContain('nightly');
      expect(lines[3]).toContain('Europe/Helsinki');
      expect(lines[3]).toContain(
        'missed — 3 ticks passed while no kiln server ran (2026-03-03T00:30:00.000Z to 2026-03-05T00:30:00.000Z); not run (missed: skip)',
      );
      const shown = JSON.parse(one.stdout) as ScheduleView;
      expect(shown.id).toBe(seeded.nightly);
      expect(shown.ticks).toHaveLength(2);
    });

    it('shows the tick jobs on the admin queue board', async () => {
      const response = await fixture.request('/admin/queues/api/queues', {
        token: fixture.adminToken,
      });

      const body = (await response.json()) as {
        queues: Array<{ name: string }>;
      };
      expect(body.queues.map((queue) => queue.name)).toContain(
        'kiln-schedules',
      );
    });

    it('`kiln schedules ID` says when there is no such schedule', async () => {
      const failed = await run('node', [kiln, 'schedules', 's000000'], {
        env: {
          ...process.env,
          KILN_URL: fixture.url,
          KILN_TOKEN: fixture.viewerToken,
          KILN_LOG_LEVEL: 'silent',
        },
        timeout: 60_000,
      }).catch((error: { code: number; stderr: string }) => error);

      expect(failed).toMatchObject({
        code: 1,
        stderr: 'kiln: no schedule s000000: use an id from `kiln schedules`\n',
      });
    });
  },
);
