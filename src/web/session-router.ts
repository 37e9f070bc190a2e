/**
 * The token login: the form posts a token, the server checks it and sets
 * an HttpOnly, SameSite=Strict session cookie.
 */
import express, { Router } from 'express';
import type { Auth } from '../http/auth/create-auth.js';
import {
  isThrottled,
  SESSION_COOKIE,
  throttledMessage,
} from '../http/auth/create-auth.js';
import type { ServerDeps } from '../http/server-deps.js';
import { renderLoginPage } from './pages/login-page.js';
import { sendPage } from './layout.js';

export function createSessionRouter(deps: ServerDeps, auth: Auth): Router {
  const router = Router();
  router.get('/login', (req, res) => {
    sendPage(res, {
      title: 'Log in',
      body: renderLoginPage({
        next: safeNext(req.query.next),
        ...(req.query.expired === '1'
          ? {
              problem:
                'Your session token is no longer valid (revoked or replaced): log in again.',
            }
          : {}),
      }),
    });
  });
  router.post(
    '/login',
    express.urlencoded({ extended: false, limit: '4kb' }),
    async (req, res) => {
      const body = (req.body ?? {}) as { token?: unknown; next?: unknown };
      const token = typeof body.token === 'string' ? body.token.trim() : '';
      const record = token ? await auth.verify(req, token) : null;
      if (isThrottled(record)) {
        res.status(429).setHeader('Retry-After', String(record.retryAfterS));
        sendPage(res, {
          title: 'Log in',
          body: renderLoginPage({
            next: safeNext(body.next),
            problem: `${throttledMessage(record)}.`,
          }),
        });
        return;
      }
      if (!record) {
        res.status(401);
        sendPage(res, {
          title: 'Log in',
          body: renderLoginPage({
            next: safeNext(body.next),
            problem:
              'That token is not valid: check it or create one with kiln token create.',
          }),
        });
        return;
      }
      const secure = deps.settings.publicUrl?.startsWith('https://')
        ? '; Secure'
        : '';
      res.setHeader(
        'Set-Cookie',
        `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000${secure}`,
      );
      res.redirect(303, safeNext(body.next));
    },
  );
  router.post('/logout', (_req, res) => {
    res.setHeader(
      'Set-Cookie',
      `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
    );
    res.redirect(303, '/login');
  });

  return router;
}

export function safeNext(value: unknown): string {
  return typeof value === 'string' &&
    /^\/(?![/\\])[^\s]*$/.test(value) &&
    value.length < 1000
    ? value
    : '/runs';
}
