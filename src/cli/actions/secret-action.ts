import { createSecretStore } from '../../secrets/secret-store.js';
import { openRecords } from '../open-records.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write('value (end with Ctrl-D): ');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > 64 * 1024)
      throw new Error('a secret value is limited to 64 KiB');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function checkRepository(repository: string): void {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) {
    throw new Error(`"${repository}" is not OWNER/REPO`);
  }
}

export async function setSecretAction(
  repository: string,
  name: string,
): Promise<void> {
  checkRepository(repository);
  const value = await readStdin();
  const engine = await openRecords();
  try {
    await createSecretStore(engine.redis, engine.keys).set(
      repository,
      name,
      value,
    );
    process.stdout.write(`secret ${name} set for ${repository}\n`);
  } finally {
    await engine.close();
  }
}

export async function listSecretsAction(repository: string): Promise<void> {
  checkRepository(repository);
  const engine = await openRecords();
  try {
    const names = await createSecretStore(engine.redis, engine.keys).names(
      repository,
    );
    process.stdout.write(
      names.length > 0
        ? `${names.join('\n')}\n`
        : `no secrets for ${repository}\n`,
    );
  } finally {
    await engine.close();
  }
}

export async function deleteSecretAction(
  repository: string,
  name: string,
): Promise<void> {
  checkRepository(repository);
  const engine = await openRecords();
  try {
    const deleted = await createSecretStore(engine.redis, engine.keys).delete(
      repository,
      name,
    );
    process.stdout.write(
      deleted
        ? `secret ${name} deleted\n`
        : `${repository} has no secret ${name}\n`,
    );
    if (!deleted) process.exitCode = 1;
  } finally {
    await engine.close();
  }
}
