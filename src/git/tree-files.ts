import { chmod, lstat, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

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
