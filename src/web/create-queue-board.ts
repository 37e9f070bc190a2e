/**
 * The BullMQ board (`@bull-board/express`) for kiln's step, intake and
 * schedule queues, built on first use so a server that never shows it opens
 * no queue objects. Its page links a web font from another site, which
 * kiln's policy forbids (no external requests): the link is taken out of
 * the page as it is rendered.
 */
import type { Router } from 'express';
import { INTAKE_QUEUE } from '../intake/intake-queue.js';
import { SCHEDULE_QUEUE } from '../queue/schedule-queue.js';
import { DEFAULT_STEP_QUEUE } from '../queue/step-jobs.js';
import type { ServerDeps } from '../http/server-deps.js';

export async function createQueueBoard(deps: ServerDeps): Promise<Router> {
  const [
    { createBullBoard },
    { BullMQAdapter },
    { ExpressAdapter },
    { Queue },
  ] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/express'),
    import('bullmq'),
  ]);
  const adapter = new ExpressAdapter();
  adapter.setBasePath('/admin/queues');
  const queues = [DEFAULT_STEP_QUEUE, INTAKE_QUEUE, SCHEDULE_QUEUE].map(
    (name) =>
      new BullMQAdapter(
        new Queue(name, {
          connection: deps.redis,
          prefix: deps.keys.bullPrefix,
        }),
      ),
  );
  createBullBoard({ queues, serverAdapter: adapter });
  const board = adapter.getRouter() as Router;
  const external = /<link[^>]+href="https?:\/\/[^"]*"[^>]*>/g;
  return ((req, res, next) => {
    const render = res.render.bind(res);
    res.render = ((view: string, options?: object) =>
      render(view, options ?? {}, (error: Error | null, page?: string) => {
        if (error) {
          next(error);
          return;
        }
        res.type('text/html').send((page ?? '').replace(external, ''));
      })) as typeof res.render;
    board(req, res, next);
  }) as Router;
}
