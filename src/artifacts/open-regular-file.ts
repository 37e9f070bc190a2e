/**
 * Opens a file a step left behind for reading, safely: never through a
 * symlink (a link swapped in for an output must not make kiln read a host
 * file), never blocking on a FIFO, and only when it is a regular file.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ArtifactError } from './artifact-error.js';

export async function openRegularFile(localPath: string): Promise<FileHandle> {
  const flags =
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const handle = await open(localPath, flags).catch((error: unknown) => {
    throw new ArtifactError(
      'IO_FAILED',
      `cannot read ${localPath} (${codeOf(error)}); outputs must be regular files, not symlinks`,
      { cause: error },
    );
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new ArtifactError(
        'NOT_A_FILE',
        `${localPath} is not a regular file; only regular files can be stored`,
      );
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    return String((error as { code: unknown }).code);
  }
  return error instanceof Error ? error.message : String(error);
}
