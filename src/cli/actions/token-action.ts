/**
 * The work of `kiln token …`: with KILN_URL on that kiln (its API, an admin
 * KILN_TOKEN), so the token is made where it will be used; otherwise on
 * the local store, which is named.
 */
import type { TokenRecord } from '../../http/auth/token-store.js';
import { createTokenStore, isTokenRole } from '../../http/auth/token-store.js';
import { formatTable } from '../../model/format-values.js';
import { describeStore } from '../describe-store.js';
import { openRecords } from '../open-records.js';
import { remoteFromEnv } from '../remote-client.js';

export async function createTokenAction(options: {
  name: string;
  role: string;
}): Promise<void> {
  if (!isTokenRole(options.role)) {
    throw new Error(
      `--role must be admin or viewer, not ${JSON.stringify(options.role)}`,
    );
  }
  const remote = remoteFromEnv();
  if (remote) {
    const created = await remote.post<TokenRecord & { token: string }>(
      '/api/tokens',
      { name: options.name, role: options.role },
    );
    process.stderr.write(
      `created ${created.role} token "${created.name}" on ${remote.url}; it is shown only now, store it safely:\n`,
    );
    process.stdout.write(`${created.token}\n`);
    return;
  }
  const engine = await openRecords();
  try {
    const tokens = createTokenStore(engine.redis, {
      keys: engine.keys,
    });
    const { token, record } = await tokens.createToken({
      name: options.name,
      role: options.role,
    });
    process.stderr.write(
      `created ${record.role} token "${record.name}" in ${describeStore(engine)} — a kiln server on another store will not know it (set KILN_URL to make it there); it is shown only now, store it safely:\n`,
    );
    process.stdout.write(`${token}\n`);
  } finally {
    await engine.close();
  }
}

export async function listTokensAction(): Promise<void> {
  const remote = remoteFromEnv();
  if (remote) {
    const { tokens } = await remote.get<{ tokens: TokenRecord[] }>(
      '/api/tokens',
    );
    process.stdout.write(
      `${formatTable(
        ['name', 'role', 'created'],
        tokens.map((item) => [item.name, item.role, item.createdAt]),
      )}\n`,
    );
    return;
  }
  const engine = await openRecords();
  try {
    const tokens = createTokenStore(engine.redis, {
      keys: engine.keys,
    });
    const list = await tokens.listTokens();
    process.stdout.write(
      `${formatTable(
        ['name', 'role', 'created'],
        list.map((item) => [item.name, item.role, item.createdAt]),
      )}\n`,
    );
  } finally {
    await engine.close();
  }
}

export async function revokeTokenAction(name: string): Promise<void> {
  const remote = remoteFromEnv();
  if (remote) {
    await remote.delete(`/api/tokens/${encodeURIComponent(name)}`);
    process.stdout.write(`revoked token "${name}" on ${remote.url}\n`);
    return;
  }
  const engine = await openRecords();
  try {
    const tokens = createTokenStore(engine.redis, {
      keys: engine.keys,
    });
    if (!(await tokens.revokeToken(name))) {
      throw new Error(`there is no token named "${name}": see kiln token list`);
    }
    process.stdout.write(`revoked token "${name}"\n`);
  } finally {
    await engine.close();
  }
}
