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
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactError } from './artifact-error.js';
import type { ArtifactStore, StoredObject } from './artifact-store.js';
import { createDigestCheck } from './create-digest-check.js';
import { codeOf, openRegularFile } from './open-regular-file.js';

/** See `FsArtifactStore.createTee`. */
export interface BlobTee {
  stream: Transform;
  commit(sha256: string): Promise<void>;
  discard(): Promise<void>;
}

const DIGEST = /^[0-9a-f]{64}$/;
const READ_CHUNK = 1024 * 1024;

export class FsArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = root;
    this.location = root;
  }

  async put(localPath: string): Promise<{ sha256: string; size: number }> {
    const handle = await openRegularFile(localPath);
    const tmpDir = join(this.root, 'tmp');
    const tmpPath = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    let sha256: string;
    let size = 0;
    try {
      await mkdir(tmpDir, { recursive: true });
      const hash = createHash('sha256');
      // 1 MiB reads: a sixteenth of the calls, events and hash updates of
      // the 64 KiB default, for files of any size.
      const source = handle.createReadStream({
        autoClose: false,
        highWaterMark: READ_CHUNK,
      });
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

  /**
   * A pass-through stream that also writes what goes through it to a
   * temporary file of this store (waiting for each write, so the file never
   * falls behind): `commit` stores the file as the blob `sha256` (the
   * caller has checked the digest), `discard` drops it.
   */
  async createTee(): Promise<BlobTee> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmpPath = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const file = createWriteStream(tmpPath, { flags: 'wx' });
    const closed = new Promise<void>((resolve, reject) => {
      file.once('close', resolve);
      file.once('error', reject);
    });
    closed.catch(() => undefined);
    const stream = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        file.write(chunk, (error) => callback(error ?? null, chunk));
      },
      flush(callback) {
        file.end();
        closed.then(() => callback(), callback);
      },
    });
    return {
      stream,
      commit: async (sha256) => {
        await closed;
        await this.commit(tmpPath, sha256);
      },
      discard: async () => {
        file.destroy();
        await closed.catch(() => undefined);
        await unlink(tmpPath).catch(() => undefined);
      },
    };
  }

  /**
   * Stores the bytes of `source`. With `expected`, bytes that hash to
   * anything else are refused (`CORRUPT`) and nothing is stored; `maxBytes`
   * cuts a source that runs on (`onTooLarge` makes the error).
   */
  async putStream(
    source: Readable,
    options: {
      expected?: string;
      maxBytes?: number;
      describe?: string;
      onTooLarge?: () => Error;
      onMismatch?: (actual: string) => Error;
    } = {},
  ): Promise<{ sha256: string; size: number }> {
    const tmpDir = join(this.root, 'tmp');
    const tmpPath = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const what = options.describe ?? 'a download';
    const check = createDigestCheck({
      expected: options.expected,
      maxBytes: options.maxBytes,
      onTooLarge: options.onTooLarge,
      onMismatch:
        options.onMismatch ??
        ((actual) =>
          new ArtifactError(
            'CORRUPT',
            `${what} is corrupt: its bytes hash to ${actual}, not ${options.expected}; it was refused`,
          )),
    });
    try {
      await mkdir(tmpDir, { recursive: true });
      await pipeline(
        source,
        check,
        createWriteStream(tmpPath, { flags: 'wx' }),
      );
    } catch (error) {
      source.destroy();
      await unlink(tmpPath).catch(() => undefined);
      throw error;
    }
    const sha256 = check.digest as string;
    await this.commit(tmpPath, sha256);
    return { sha256, size: check.bytes };
  }

  async downloadUrl(): Promise<null> {
    // A directory has no URL of its own: the server streams `open`.
    return null;
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

  async copyTo(sha256: string, destPath: string): Promise<StoredObject> {
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
      // A file has no identity beyond its digest.
      return {};
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
