import { chmod, lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const writeBits = 0o222;

/**
 * `chmod -R a-w`: a step that tries to edit its checkout fails loudly instead
 * of changing a tree other steps share. Symlinks are left alone (their mode
 * is meaningless and chmod would follow them out of the tree).
 */
export async function makeReadOnly(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) await makeReadOnly(path);
    const { mode } = await lstat(path);
    await chmod(path, mode & ~writeBits & 0o7777);
  }
  const { mode } = await lstat(dir);
  await chmod(dir, mode & ~writeBits & 0o7777);
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
