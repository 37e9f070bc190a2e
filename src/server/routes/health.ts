/**
 * `/healthz`: the process is alive. `/readyz`: it can do its job — Redis
 * answers, and any extra check (the Docker engine for a worker) passes.
 */
import { Router } from 'express';
import type { ServerDeps } from '../../http/server-deps.js';

export function createHealthRouter(deps: ServerDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, boolean> = {};
    checks.redis = await withTimeout(
      deps.redis.ping().then((answer) => answer === 'PONG'),
      2000,
    );
    for (const { name, check } of deps.readinessChecks ?? []) {
      checks[name] = await withTimeout(check(), 2000);
    }
    const ready = Object.values(checks).every(Boolean);
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not ready', checks });
  });
  return router;
}

async function withTimeout(
  promise: Promise<boolean>,
  ms: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.catch(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
