/**
 * Who may read a page, decided the same way for every page router: the
 * caller's principal, or null when anonymous reading is allowed
 * (`KILN_PUBLIC_READ`). Otherwise the response is already sent and the
 * result is `false`: a presented token that is not valid (revoked,
 * mistyped) clears the session cookie and goes to the login page marked
 * expired; no token at all goes to the login page. Either way the login
 * page comes back to the page asked for.
 */
import type { Request, Response } from 'express';
import {
  SESSION_COOKIE,
  type Auth,
  type Principal,
} from '../http/auth/create-auth.js';
import type { Settings } from '../settings.js';

export interface PageAccessOptions {
  auth: Auth;
  /** Read at each request. */
  settings: Pick<Settings, 'publicRead'>;
}

export async function pageAccess(
  req: Request,
  res: Response,
  options: PageAccessOptions,
): Promise<Principal | null | false> {
  const principal = await options.auth.identify(req);
  if (options.auth.presentedInvalid(req)) {
    // A revoked or mistyped token: log in again (the cookie is cleared).
    res.setHeader(
      'Set-Cookie',
      `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
    );
    res.redirect(
      303,
      `/login?expired=1&next=${encodeURIComponent(req.originalUrl)}`,
    );
    return false;
  }
  if (principal || options.settings.publicRead) return principal;
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
  return false;
}
