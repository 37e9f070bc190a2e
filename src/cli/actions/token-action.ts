/** The work of `kiln token …`, on the Redis the server uses. */
import { createTokenStore, isTokenRole } from '../../http/auth/token-store.js';
import { formatTable } from '../../model/format-values.js';
import { openRecords } from '../open-records.js';

export async function createTokenAction(options: {
  name: string;
  role: string;
}): Promise<void> {
  if (!isTokenRole(options.role)) {
    throw new Error(
      `--role must be admin or viewer, not ${JSON.stringify(options.role)}`,
    );
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
      `created ${record.role} token "${record.name}"; it is shown only now, store it safely:\n`,
    );
    process.stdout.write(`${token}\n`);
  } finally {
    await engine.close();
  }
}

export async function listTokensAction(): Promise<void> {
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
