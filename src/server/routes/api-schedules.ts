/**
 * Schedules over the API (read role): `GET /api/schedules` lists them with
 * their next tick and latest ticks (`?repository=`, `?branch=`, `?ticks=`
 * up to 200); `GET /api/schedules/:id` is one with up to 200 ticks. They
 * are changed only by pushing kiln.yaml.
 */
import { Router } from 'express';
import { getSchedule, listSchedules } from '../../control/list-schedules.js';
import {
  ApiError,
  checkId,
  readInteger,
  readString,
  type ApiContext,
} from '../../http/api-context.js';
import { scheduleReaderFor } from '../../http/schedule-reader.js';

export function createApiSchedulesRouter(context: ApiContext): Router {
  const { deps, auth } = context;
  const router = Router();
  const read = auth.requireRole('read');

  router.get('/api/schedules', read, async (req, res) => {
    const schedules = await listSchedules(scheduleReaderFor(deps), {
      repository: readString(req.query.repository, 'repository'),
      branch: readString(req.query.branch, 'branch'),
      ticks: readInteger(req.query.ticks, 'ticks', { min: 0, max: 200 }) ?? 10,
    });
    res.json({ schedules });
  });

  router.get('/api/schedules/:id', read, async (req, res) => {
    const schedule = await getSchedule(scheduleReaderFor(deps), {
      id: checkId(req.params.id, 'schedule'),
      ticks: readInteger(req.query.ticks, 'ticks', { min: 0, max: 200 }) ?? 100,
    });
    if (!schedule) throw new ApiError(404, 'no schedule with that id');
    res.json(schedule);
  });

  return router;
}
