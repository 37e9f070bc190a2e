/**
 * Tokens over the API (admin): `kiln token create|list|revoke` with
 * KILN_URL set talk to these, so a token is made on the server it is
 * meant for. The token is in the answer once; only its hash is stored.
 */
import { Router } from 'express';
import { isTokenRole, TokenError } from '../../http/auth/token-store.js';
import { ApiError, type ApiContext } from '../../http/api-context.js';

export function createApiTokensRouter(context: ApiContext): Router {
  const { auth } = context;
  const router = Router();
  const admin = auth.requireRole('admin');

  router.get('/api/tokens', admin, async (_req, res) => {
    res.json({ tokens: await auth.tokens.listTokens() });
  });

  router.post('/api/tokens', admin, async (req, res) => {
    const body = (req.body ?? {}) as { name?: unknown; role?: unknown };
    if (typeof body.name !== 'string') {
      throw new ApiError(400, 'send {"name": "NAME", "role": "viewer|admin"}');
    }
    const role = body.role ?? 'viewer';
    if (!isTokenRole(role))
      throw new ApiError(400, 'role must be admin or viewer');
    try {
      const { token, record } = await auth.tokens.createToken({
        name: body.name,
        role,
      });
      res.status(201).json({ ...record, token });
    } catch (error) {
      if (error instanceof TokenError) {
        throw new ApiError(
          error.code === 'NAME_TAKEN' ? 409 : 400,
          error.message,
        );
      }
      throw error;
    }
  });

  router.delete('/api/tokens/:name', admin, async (req, res) => {
    const name = String(req.params.name);
    if (!(await auth.tokens.revokeToken(name))) {
      throw new ApiError(404, `there is no token named "${name}"`);
    }
    res.json({ revoked: name });
  });

  return router;
}
