/**
 * The small HTTP listener of a `kiln worker` (KILN_WORKER_PORT): `/healthz`,
 * `/readyz` (Redis answers and the container engine answers) and
 * `/metrics`, for orchestrators and Prometheus. Nothing else is served:
 * workers take no webhooks and show no UI.
 *
 * Contract: called once by the worker role after the worker started;
 * `close()` stops listening and is idempotent.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import { createHealthRouter } from './routes/health.js';
import { createMetricsRouter } from './routes/metrics.js';
import type { ServerDeps } from '../http/server-deps.js';

export interface WorkerListener {
  port: number;
  close(): Promise<void>;
}

export interface StartWorkerListenerOptions {
  deps: ServerDeps;
  port: number;
  host: string;
}

export async function startWorkerListener(
  options: StartWorkerListenerOptions,
): Promise<WorkerListener> {
  const app = express();
  app.disable('x-powered-by');
  app.use(createHealthRouter(options.deps));
  app.use(createMetricsRouter(options.deps));
  app.use((_req, res) => {
    res
      .status(404)
      .json({ error: 'a worker serves /healthz, /readyz and /metrics only' });
  });
  const server: Server = createServer(app);
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port =
    typeof address === 'object' && address ? address.port : options.port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
