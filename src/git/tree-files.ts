import { chmod, lstat, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Entry names of `dir`; none when it does not exist. */
export async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function makeDirectoriesWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.isDirectory()) {
      await makeDirectoriesWritable(join(dir, entry.name));
    }
  }
}

/** Removes a read-only tree; a missing path is fine (idempotent). */
export async function removeTree(path: string): Promise<void> {
  try {
    const stats = await lstat(path);
    if (stats.isDirectory()) await makeDirectoriesWritable(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await rm(path, { recursive: true, force: true });
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Removes `.tmp-*` entries of `dir` last modified more than `graceMs` ago. */
export async function removeStaleTemps(
  dir: string,
  graceMs: number,
): Promise<number> {
  let removed = 0;
  for (const name of await listNames(dir)) {
    if (!name.startsWith('.tmp-')) continue;
    const path = join(dir, name);
    const stats = await lstat(path).catch(() => null);
    if (stats === null || Date.now() - stats.mtimeMs < graceMs) continue;
    await removeTree(path);
    removed += 1;
  }
  return removed;
}
