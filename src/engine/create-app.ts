/**
 * The HTTP application, without `listen()` (tests mount it on their own
 * server). Routes are mounted in order; the webhook route comes before any
 * JSON body parser because its signature is checked over the raw bytes.
 */
import express, { type Express } from 'express';
import { createWebRouter } from '../web/web-router.js';
import { createApiRouter } from '../server/routes/api.js';
import { createHealthRouter } from '../server/routes/health.js';
import { createMetricsRouter } from '../server/routes/metrics.js';
import { createWebhooksRouter } from '../server/routes/webhooks.js';
import type { ServerDeps } from '../http/server-deps.js';

export function createApp(deps: ServerDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(createHealthRouter(deps));
  app.use(createMetricsRouter(deps)); // counts webhook answers: before them
  // Routers register here, one line each: webhooks first (raw body).
  app.use(createWebhooksRouter(deps));
  app.use(createApiRouter(deps));
  app.use(createWebRouter(deps));
  return app;
}
