/**
 * kiln's static files: its stylesheet, its browser modules (client/*.js,
 * served as they are), the favicon, and the charting libraries from
 * node_modules (uPlot; hermes for parallel coordinates) under
 * /static/vendor/. Nothing is loaded from another site.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { FAVICON_SVG } from './layout.js';
import { STYLESHEET } from './stylesheet.js';

const require = createRequire(import.meta.url);
const clientDir = fileURLToPath(new URL('./client/', import.meta.url));

const vendor: Record<string, string> = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
  'hermes.iife.js': 'hermes-parallel-coordinates/dist/hermes.iife.js',
};

export function createStaticRouter(): Router {
  const router = Router();
  const cache = (res: { setHeader(name: string, value: string): void }) =>
    res.setHeader('Cache-Control', 'no-cache');
  router.get('/static/kiln.css', (_req, res) => {
    cache(res);
    res.type('text/css').send(STYLESHEET);
  });
  router.get('/static/:file', (req, res, next) => {
    const file = req.params.file;
    if (!/^[a-z][a-z-]*\.js$/.test(file)) return next();
    const path = `${clientDir}${file}`;
    if (!existsSync(path)) return next();
    cache(res);
    res.type('application/javascript').sendFile(path);
  });
  router.get('/static/vendor/:file', (req, res, next) => {
    const module = vendor[req.params.file];
    if (!module) return next();
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.sendFile(require.resolve(module));
  });
  router.get(['/favicon.svg', '/favicon.ico'], (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type('image/svg+xml').send(FAVICON_SVG);
  });
  return router;
}
