/**
 * `GET /metrics` in Prometheus' text format, and the counter of webhook
 * answers (a listener on `POST /webhooks/github` that looks at the status
 * once the answer is sent, so it must be mounted before the webhook route).
 * Without `deps.metrics` the router makes its own registry from deps.
 * Closed by default, as Woodpecker's and Drone's are: queue depths, run
 * counts and webhook outcomes say a lot about a private deployment. With
 * KILN_METRICS_TOKEN set, a scrape must send it as a bearer token
 * (compared in constant time), 401 otherwise; with KILN_METRICS_PUBLIC=true
 * anyone may scrape; with neither, 403 saying how to open it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request } from 'express';
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
  router.get('/metrics', async (req, res) => {
    const token = deps.settings.metricsToken;
    if (token === undefined && !deps.settings.metricsPublic) {
      res
        .status(403)
        .type('text/plain')
        .send(
          '/metrics is closed: set KILN_METRICS_TOKEN (scrapes send it as "Authorization: Bearer <token>") or KILN_METRICS_PUBLIC=true\n',
        );
      return;
    }
    if (token !== undefined && !presents(req, token)) {
      res
        .status(401)
        .type('text/plain')
        .send(
          'KILN_METRICS_TOKEN is set: send it as "Authorization: Bearer <token>" (Prometheus: authorization.credentials)\n',
        );
      return;
    }
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

function presents(req: Request, token: string): boolean {
  const header = req.headers.authorization;
  const match =
    typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return false;
  // Digests have one length, so timingSafeEqual never throws.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}
