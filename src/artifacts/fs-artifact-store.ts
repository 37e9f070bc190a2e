/**
 * `ArtifactStore` on a local directory:
 * `<root>/sha256/<first 2 hex>/<other 62 hex>`, files read-only (0444).
 * Writes go to `<root>/tmp/` first and are renamed into place, so a blob is
 * either complete or absent, also after a crash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import {
  chmod,
  copyFile,
  link,
  mkdir,
  open,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactError } from './artifact-error.js';
import type { ArtifactStore } from './artifact-store.js';

const DIGEST = /^[0-9a-f]{64}$/;

export class FsArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  async put(localPath: string): Promise<{ sha256: string; size: number }> {
    // O_NOFOLLOW: a symlink swapped in for an output must not make kiln
    // read a host file. O_NONBLOCK: opening a FIFO must not hang.
    const flags =
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
    const handle = await open(localPath, flags).catch((error: unknown) => {
      throw new ArtifactError(
        'IO_FAILED',
        `cannot read ${localPath} (${codeOf(error)}); outputs must be regular files, not symlinks`,
        { cause: error },
      );
    });
    const tmpDir = join(this.root, 'tmp');
    const tmpPath = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    let sha256: string;
    let size = 0;
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        throw new ArtifactError(
          'NOT_A_FILE',
          `${localPath} is not a regular file; only regular files can be stored`,
        );
      }
      await mkdir(tmpDir, { recursive: true });
      const hash = createHash('sha256');
      const source = handle.createReadStream({ autoClose: false });
      source.on('data', (chunk: string | Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      await pipeline(source, createWriteStream(tmpPath, { flags: 'wx' }));
      sha256 = hash.digest('hex');
    } catch (error) {
      await unlink(tmpPath).catch(() => undefined);
      if (error instanceof ArtifactError) throw error;
      throw new ArtifactError(
        'IO_FAILED',
        `storing ${localPath} failed (${codeOf(error)}); check free space and permissions under ${this.root}`,
        { cause: error },
      );
    } finally {
      await handle.close();
    }
    await this.commit(tmpPath, sha256);
    return { sha256, size };
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== null;
  }

  async size(sha256: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(sha256))).size;
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return null;
      throw error;
    }
  }

  async open(sha256: string): Promise<Readable> {
    const path = await this.existing(sha256);
    return createReadStream(path);
  }

  async copyTo(sha256: string, destPath: string): Promise<void> {
    const source = await this.existing(sha256);
    await mkdir(dirname(destPath), { recursive: true });
    // Link or copy under a temporary name, then rename over destPath: a
    // retried preparation replaces the file instead of failing on EEXIST.
    const tmpPath = `${destPath}.${randomBytes(6).toString('hex')}.kiln-tmp`;
    try {
      try {
        await link(source, tmpPath);
      } catch {
        // Another file system (EXDEV) or links not allowed: copy instead.
        await copyFile(source, tmpPath, constants.COPYFILE_EXCL);
        await chmod(tmpPath, 0o444);
      }
      await rename(tmpPath, destPath);
      // rename(2) is a no-op when both names already link the same inode
      // (a second copyTo of the same blob): drop the temporary name.
      await unlink(tmpPath).catch(() => undefined);
    } catch (error) {
      await unlink(tmpPath).catch(() => undefined);
      throw new ArtifactError(
        'IO_FAILED',
        `copying artifact ${sha256} to ${destPath} failed (${codeOf(error)})`,
        { cause: error },
      );
    }
  }

  /** Absolute path of a blob; rejects anything but a 64-hex digest. */
  pathOf(sha256: string): string {
    if (!DIGEST.test(sha256)) {
      throw new ArtifactError(
        'INVALID_DIGEST',
        `"${sha256.slice(0, 80)}" is not a sha256 digest (64 lowercase hex characters)`,
      );
    }
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2));
  }

  private async existing(sha256: string): Promise<string> {
    const path = this.pathOf(sha256);
    if ((await this.size(sha256)) === null) {
      throw new ArtifactError(
        'NOT_FOUND',
        `artifact ${sha256} is not in the store at ${this.root}; was it produced on another kiln host?`,
      );
    }
    return path;
  }

  private async commit(tmpPath: string, sha256: string): Promise<void> {
    const finalPath = this.pathOf(sha256);
    try {
      if (await this.has(sha256)) {
        await unlink(tmpPath);
        return;
      }
      await chmod(tmpPath, 0o444);
      await mkdir(dirname(finalPath), { recursive: true });
      // Same content under the same name: a concurrent put winning the race
      // is harmless, rename replaces it atomically with identical bytes.
      await rename(tmpPath, finalPath);
    } catch (error) {
      await unlink(tmpPath).catch(() => undefined);
      throw new ArtifactError(
        'IO_FAILED',
        `storing blob ${sha256} under ${this.root} failed (${codeOf(error)})`,
        { cause: error },
      );
    }
  }
}

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    return String((error as { code: unknown }).code);
  }
  return error instanceof Error ? error.message : String(error);
}
