/**
 * The REST API under `/api/`: JSON in and out, described by
 * `api/openapi.json` (served at `/api/openapi.json`). Mounted by
 * `createApp` after the webhook route (which needs the raw body).
 */
import { readFileSync } from 'node:fs';
import express, { Router } from 'express';
import type { NextFunction, Request, Response } from 'express';
import { authFor } from '../../http/auth/auth-for.js';
import { parseExactJson } from '../parse-exact-json.js';
import type { ServerDeps } from '../../http/server-deps.js';
import { ApiError, createApiErrorHandler } from '../../http/api-context.js';
import { createApiEventsRouter } from './api-events.js';
import { createApiExecutionsRouter } from './api-executions.js';
import { createApiRunsRouter } from './api-runs.js';
import { createApiTokensRouter } from './api-tokens.js';
import { createApiSchedulesRouter } from './api-schedules.js';
import { createApiTasksRouter } from './api-tasks.js';

let openApiText: string | undefined;

/** The OpenAPI document kept in the repository (read once). */
export function readOpenApiText(): string {
  openApiText ??= readFileSync(
    new URL('../../../api/openapi.json', import.meta.url),
    'utf8',
  );
  return openApiText;
}

/**
 * `express.json` with `parseExactJson`: a JSON body (read as text) becomes
 * `req.body`; malformed JSON is a 400, as before.
 */
function parseJsonBody(req: Request, _res: Response, next: NextFunction) {
  if (typeof req.body !== 'string') {
    next();
    return;
  }
  const text = req.body;
  // As express.json: an empty body is {}; else only an object or a list.
  if (text === '') {
    req.body = {};
    next();
    return;
  }
  const first = /^[ \t\n\r]*(.)/s.exec(text)?.[1];
  try {
    if (first !== '{' && first !== '[') throw new SyntaxError('not strict');
    req.body = parseExactJson(text);
    next();
  } catch {
    next(new ApiError(400, 'the request body is not valid JSON'));
  }
}

export function createApiRouter(deps: ServerDeps): Router {
  const auth = authFor(deps);
  const router = Router();
  const context = { deps, auth };
  router.get('/api/openapi.json', (_req, res) => {
    res.type('application/json').send(readOpenApiText());
  });
  // Read as text and parsed here, so that an integer beyond 2^53 keeps its
  // digits (parse-exact-json.ts); otherwise as express.json would.
  router.use(
    '/api',
    express.text({ type: 'application/json', limit: '64kb' }),
    parseJsonBody,
  );
  router.use('/api', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.use(createApiRunsRouter(context));
  router.use(createApiTasksRouter(context));
  router.use(createApiExecutionsRouter(context));
  router.use(createApiEventsRouter(context));
  router.use(createApiTokensRouter(context));
  router.use(createApiSchedulesRouter(context));
  router.use('/api', (_req, _res, next) => {
    next(new ApiError(404, 'no such API endpoint: see /api/openapi.json'));
  });
  router.use('/api', createApiErrorHandler(deps.logger));
  return router;
}
