/**
 * Writes a blob to a file the user owns: a real copy (never a hard link into
 * the store, so editing the download can't change a versioned artifact),
 * checked against its digest, written under a temporary name and renamed
 * into place, so `destPath` is either the whole blob or untouched.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ArtifactError } from './artifact-error.js';
import type { ArtifactStore } from './artifact-store.js';
import { createDigestCheck } from './create-digest-check.js';

export async function saveArtifactCopy(
  store: ArtifactStore,
  sha256: string,
  destPath: string,
): Promise<void> {
  await mkdir(dirname(destPath), { recursive: true });
  const tmpPath = `${destPath}.${randomBytes(6).toString('hex')}.kiln-tmp`;
  try {
    await pipeline(
      await store.open(sha256),
      createDigestCheck({
        expected: sha256,
        onMismatch: (actual) =>
          new ArtifactError(
            'CORRUPT',
            `artifact ${sha256} in ${store.location} is corrupt (its bytes hash to ${actual}); nothing was written to ${destPath}`,
          ),
      }),
      createWriteStream(tmpPath, { flags: 'wx', mode: 0o644 }),
    );
    await rename(tmpPath, destPath);
  } catch (error) {
    await unlink(tmpPath).catch(() => undefined);
    throw error;
  }
}
