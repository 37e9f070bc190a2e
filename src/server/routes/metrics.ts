/**
 * `GET /metrics` in Prometheus' text format, and the counter of webhook
 * answers (a listener on `POST /webhooks/github` that looks at the status
 * once the answer is sent, so it must be mounted before the webhook route).
 * Without `deps.metrics` the router makes its own registry from deps.
 */
import { Router } from 'express';
import {
  createKilnMetrics,
  type KilnMetrics,
} from '../../telemetry/create-kiln-metrics.js';
import type { ServerDeps } from '../../http/server-deps.js';
import { WEBHOOK_PATH } from './webhooks.js';

export function createMetricsRouter(deps: ServerDeps): Router {
  let metrics: KilnMetrics | undefined = deps.metrics;
  const getMetrics = (): KilnMetrics => {
    metrics ??= createKilnMetrics({
      redis: deps.redis,
      keys: deps.keys,
      runs: deps.control.runs,
    });
    return metrics;
  };
  const router = Router();
  router.post(WEBHOOK_PATH, (_req, res, next) => {
    res.once('finish', () => getMetrics().countWebhookAnswer(res.statusCode));
    next();
  });
  router.get('/metrics', async (_req, res) => {
    try {
      const text = await getMetrics().metrics();
      res.setHeader('Content-Type', getMetrics().contentType);
      res.send(text);
    } catch (error) {
      deps.logger.warn({ err: error }, 'metrics scrape failed');
      res.status(503).type('text/plain').send('metrics unavailable\n');
    }
  });
  return router;
}
