/**
 * `GET /charts/<run>.svg?base=<run>&sig=<signature>`: the metric curves
 * image a PR comment shows, rendered here (no external service). GitHub's
 * image proxy fetches it without kiln credentials, so it needs no login:
 * the signature in the link is the key (control/chart-link.ts, the module
 * the reporter signs the posted links with). A link
 * that is not signed, or names a run kiln no longer has, is a 404.
 */
import { Router } from 'express';
import type { ServerDeps } from '../http/server-deps.js';
import { CHART_PATH, createChartSigner } from '../control/chart-link.js';
import { renderRunChart } from '../control/render-run-chart.js';
import { createChartKeyStore } from '../store/chart-key-store.js';

const fileName = /^([A-Za-z0-9._-]{1,128})\.svg$/;
const runId = /^[A-Za-z0-9._-]{1,128}$/;
const signature = /^[A-Za-z0-9_-]{1,64}$/;

export function createChartRouter(deps: ServerDeps): Router {
  const router = Router();
  const signer = createChartSigner(createChartKeyStore(deps.redis, deps.keys));

  router.get(`${CHART_PATH}/:file`, async (req, res) => {
    const run = fileName.exec(req.params.file)?.[1];
    const base = typeof req.query.base === 'string' ? req.query.base : '';
    const sig = typeof req.query.sig === 'string' ? req.query.sig : '';
    const valid =
      run !== undefined &&
      (base === '' || runId.test(base)) &&
      signature.test(sig) &&
      (await signer.verify(run, base || undefined, sig));
    const chart = valid
      ? await renderRunChart(deps.control, run, base || undefined)
      : null;
    if (!chart) {
      res.status(404).type('text/plain').send('no such chart');
      return;
    }
    // An image, never a document: no script, no resource from elsewhere.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Finished runs don't change: GitHub's image proxy may keep it.
    res.setHeader(
      'Cache-Control',
      chart.final ? 'public, max-age=86400' : 'no-cache',
    );
    res.type('image/svg+xml').send(chart.svg);
  });

  return router;
}
