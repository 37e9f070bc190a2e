/**
 * The Schedules pages: `/schedules` (every schedule, `?repository=`) and
 * `/schedules/:id` (one with its ticks). Read access as for runs
 * (page-access.ts).
 */
import { Router } from 'express';
import { getSchedule, listSchedules } from '../control/list-schedules.js';
import type { Auth } from '../http/auth/create-auth.js';
import { scheduleReaderFor } from '../http/schedule-reader.js';
import type { ServerDeps } from '../http/server-deps.js';
import { html } from './html.js';
import { pageAccess } from './page-access.js';
import { sendPage } from './layout.js';
import {
  renderSchedulePage,
  renderSchedulesPage,
} from './pages/schedules-page.js';

const idPattern = /^[A-Za-z0-9._-]{1,128}$/;

export function createSchedulesRouter(deps: ServerDeps, auth: Auth): Router {
  const router = Router();
  const access = { auth, settings: deps.settings };

  router.get('/schedules', async (req, res) => {
    const viewer = await pageAccess(req, res, access);
    if (viewer === false) return;
    const repository =
      typeof req.query.repository === 'string' &&
      req.query.repository.length <= 256 &&
      req.query.repository
        ? req.query.repository
        : undefined;
    const schedules = await listSchedules(scheduleReaderFor(deps), {
      repository,
      ticks: 5,
    });
    sendPage(res, {
      title: 'Schedules',
      user: viewer?.name,
      role: viewer?.role,
      section: 'schedules',
      body: renderSchedulesPage({ schedules, repository, now: Date.now() }),
    });
  });

  router.get('/schedules/:id', async (req, res) => {
    const viewer = await pageAccess(req, res, access);
    if (viewer === false) return;
    const id = req.params.id;
    const schedule = idPattern.test(id)
      ? await getSchedule(scheduleReaderFor(deps), { id, ticks: 200 })
      : null;
    if (!schedule) {
      res.status(404);
      sendPage(res, {
        title: 'Schedule not found',
        user: viewer?.name,
        role: viewer?.role,
        section: 'schedules',
        body: html`<p>
          There is no schedule ${id}: see
          <a href="/schedules">all schedules</a>.
        </p>`,
      });
      return;
    }
    sendPage(res, {
      title: `Schedule ${schedule.trigger}`,
      user: viewer?.name,
      role: viewer?.role,
      section: 'schedules',
      body: renderSchedulePage(schedule, Date.now()),
    });
  });

  return router;
}
