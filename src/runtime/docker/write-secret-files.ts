/**
 * The host side of `files` secret delivery: one folder per container under
 * a base folder only the worker's user may enter, one file per secret, the
 * raw value as its content. The folder is bind-mounted read-only into the
 * container (build-container-options.ts) and the step's shell exports each
 * file as an environment variable (build-secret-exports.ts), so no value is
 * in the container's `Config.Env` for `docker inspect` to show.
 *
 * Modes: the files are 0444 and their folder 0555 because the container
 * runs as its image's user — kiln sets none, the image's `USER` may be a
 * name known only inside the image, and a user-namespace remap changes the
 * uid again — so no owner chosen on the host is sure to be the reader.
 * Other host users are kept out by the 0700 base folder: a bind mount is
 * entered at its root, so only the container gets past it.
 */
import { chmod, lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeError } from '../runtime.js';

/** The base folder: owned by the worker's user, mode 0700, not a link. */
export async function prepareSecretsBase(baseDir: string): Promise<void> {
  await mkdir(baseDir, { recursive: true, mode: 0o700 });
  const info = await lstat(baseDir);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) {
    throw new RuntimeError(
      'START_FAILED',
      `the secrets folder ${baseDir} is not a directory owned by this worker's user: remove it or set KILN_SECRETS_DIR elsewhere`,
    );
  }
  await chmod(baseDir, 0o700);
}

/**
 * Writes `secrets` (name → value) into `<baseDir>/<folder>`, replacing a
 * leftover of the same name, and returns the folder's path.
 */
export async function writeSecretFiles(options: {
  baseDir: string;
  /** A container name: letters, digits, `_`, `.`, `-`. */
  folder: string;
  secrets: Readonly<Record<string, string>>;
}): Promise<string> {
  const { baseDir, folder, secrets } = options;
  await prepareSecretsBase(baseDir);
  const path = join(baseDir, folder);
  await removeSecretFiles(path);
  await mkdir(path, { mode: 0o700 });
  try {
    for (const [name, value] of Object.entries(secrets)) {
      const file = join(path, name);
      await writeFile(file, value, { mode: 0o400, flag: 'wx' });
      await chmod(file, 0o444);
    }
    await chmod(path, 0o555);
  } catch (error) {
    await removeSecretFiles(path).catch(() => undefined);
    throw new RuntimeError(
      'START_FAILED',
      `could not write the step's secret files under ${baseDir}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return path;
}

/** Removes a folder `writeSecretFiles` made; absent is fine. */
export async function removeSecretFiles(path: string): Promise<void> {
  // 0555 keeps its files from being unlinked by a worker that is not root.
  await chmod(path, 0o700).catch(() => undefined);
  await rm(path, { recursive: true, force: true });
}

/** The folders under `baseDir` (container names); none when it is absent. */
export async function listSecretFolders(baseDir: string): Promise<string[]> {
  try {
    return await readdir(baseDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
