/**
 * Who is calling: a bearer token (scripts, the CLI) or the session cookie
 * the login form sets (the UI). Routes ask for a role with `requireRole`.
 *
 * - Reading needs a viewer (or admin) token unless the operator turned on
 *   public read (KILN_PUBLIC_READ=true).
 * - Every action (launch, rerun, cancel, approve) needs an admin token.
 * - A cookie-authenticated request that changes something must come from
 *   this origin (`Origin` checked against `Host`), on top of SameSite=Strict.
 * - An address with too many failed token attempts lately is refused with
 *   429 until its window ends (failed-attempts.ts).
 * Tokens are never logged: only the token's name is kept on the request.
 */
import type { NextFunction, Request, Response } from 'express';
import {
  createFailedAttempts,
  type FailedAttemptsOptions,
} from './failed-attempts.js';
import type { TokenRecord, TokenRole, TokenStore } from './token-store.js';

export const SESSION_COOKIE = 'kiln_session';

export interface Principal {
  name: string;
  role: TokenRole;
  via: 'bearer' | 'cookie';
}

/** A client refused for its failed attempts: nothing was looked up. */
export interface Throttled {
  retryAfterS: number;
}

export interface Auth {
  tokens: TokenStore;
  /**
   * The record of `token` presented by `req`'s client; null when it is
   * unknown (counted as a failure); Throttled when the client failed too
   * often lately.
   */
  verify(req: Request, token: string): Promise<TokenRecord | null | Throttled>;
  /** Resolves the caller once per request; never rejects the request. */
  identify(req: Request): Promise<Principal | null>;
  /**
   * Whether the request presented a token (bearer or session cookie) that
   * is not valid: refused even where anonymous reading is allowed, so a
   * revoked or mistyped token is noticed. Call after `identify`.
   */
  presentedInvalid(req: Request): boolean;
  /** Middleware: 401 without a valid token, 403 with a too weak one. */
  requireRole(
    role: TokenRole | 'read',
  ): (req: Request, res: Response, next: NextFunction) => void;
}

const principalKey = Symbol('kiln.principal');
const throttledKey = Symbol('kiln.throttled');
const invalidKey = Symbol('kiln.invalid-token');

type WithPrincipal = Request & {
  [principalKey]?: Principal | null;
  [throttledKey]?: Throttled;
  [invalidKey]?: boolean;
};

export function isThrottled(value: unknown): value is Throttled {
  return typeof value === 'object' && value !== null && 'retryAfterS' in value;
}

export function throttledMessage(throttled: Throttled): string {
  return `too many failed token attempts from this address: try again in ${throttled.retryAfterS} s`;
}

export function createAuth(options: {
  tokens: TokenStore;
  publicRead: boolean;
  attempts?: FailedAttemptsOptions;
}): Auth {
  const { tokens, publicRead } = options;
  const failures = createFailedAttempts(options.attempts);

  async function verify(
    req: Request,
    token: string,
  ): Promise<TokenRecord | null | Throttled> {
    const client = req.socket.remoteAddress ?? 'unknown';
    const retryAfterS = failures.retryAfterS(client);
    if (retryAfterS > 0) return { retryAfterS };
    const record = await tokens.verifyToken(token);
    if (!record) failures.fail(client);
    return record;
  }

  async function identify(req: Request): Promise<Principal | null> {
    const holder = req as WithPrincipal;
    if (holder[principalKey] !== undefined) return holder[principalKey];
    let principal: Principal | null = null;
    const header = req.headers.authorization;
    const bearer =
      typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    const presented = bearer?.[1] ?? cookie;
    if (presented) {
      const record = await verify(req, presented);
      if (isThrottled(record)) holder[throttledKey] = record;
      else if (record) {
        principal = {
          name: record.name,
          role: record.role,
          via: bearer ? 'bearer' : 'cookie',
        };
      }
    }
    holder[principalKey] = principal;
    // A throttled client's token was not looked at: not known invalid.
    holder[invalidKey] =
      presented !== undefined &&
      principal === null &&
      holder[throttledKey] === undefined;
    return principal;
  }

  function presentedInvalid(req: Request): boolean {
    return (req as WithPrincipal)[invalidKey] === true;
  }

  function requireRole(role: TokenRole | 'read') {
    return (req: Request, res: Response, next: NextFunction): void => {
      identify(req).then(
        (principal) => {
          const throttled = (req as WithPrincipal)[throttledKey];
          if (throttled) {
            res.setHeader('Retry-After', String(throttled.retryAfterS));
            res.status(429).json({ error: throttledMessage(throttled) });
            return;
          }
          if (presentedInvalid(req)) {
            res.status(401).json({
              error:
                'that kiln token is not valid (revoked or mistyped): send a valid one, or none where reading is public',
            });
            return;
          }
          if (role === 'read' && publicRead && isSafe(req)) return next();
          if (!principal) {
            res.status(401).json({
              error:
                'a kiln token is required: send "Authorization: Bearer <token>" (kiln token create) or log in at /login',
            });
            return;
          }
          if (role === 'admin' && principal.role !== 'admin') {
            res.status(403).json({
              error: `token "${principal.name}" is a viewer token: this action needs an admin token`,
            });
            return;
          }
          if (principal.via === 'cookie' && !isSafe(req) && !sameOrigin(req)) {
            res.status(403).json({
              error:
                'cross-site request refused: send the request from the kiln UI or use a bearer token',
            });
            return;
          }
          next();
        },
        (error: unknown) => next(error),
      );
    };
  }

  return { tokens, verify, identify, presentedInvalid, requireRole };
}

function isSafe(req: Request): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

/** Browsers send `Origin` on every POST; it must name this host. */
function sameOrigin(req: Request): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (typeof origin !== 'string' || typeof host !== 'string') return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function readCookie(
  header: string | undefined,
  name: string,
): string | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(index + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}
