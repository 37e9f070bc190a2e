/**
 * One `Auth` per server: the API and the web UI share it (same token store,
 * same public-read setting), whichever router is built first makes it.
 */
import type { ServerDeps } from '../server-deps.js';
import { createAuth, type Auth } from './create-auth.js';
import { createTokenStore } from './token-store.js';

const made = new WeakMap<ServerDeps, Auth>();

export function authFor(deps: ServerDeps): Auth {
  let auth = made.get(deps);
  if (!auth) {
    auth = createAuth({
      tokens: createTokenStore(deps.redis, {
        keys: deps.keys,
      }),
      publicRead: deps.settings.publicRead,
    });
    made.set(deps, auth);
  }
  return auth;
}
