/**
 * `ArtifactStore` on a local directory:
 * `<root>/sha256/<first 2 hex>/<other 62 hex>`, files read-only (0444).
 * Writes go to `<root>/tmp/` first and are renamed into place, so a blob is
 * either complete or absent, also after a crash.
 *
 * Space: `put` checks the file system's free space before it writes (a file
 * that can't fit is refused with `NO_SPACE` unless the same bytes are
 * stored already) and again every 64 MiB while it writes, keeping
 * `reserveBytes` free for everything else on the disk (Redis, logs). Holes
 * stay holes: runs of zero bytes are skipped, not written, so a sparse
 * output costs the blocks it really uses.
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
  statfs,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactError } from './artifact-error.js';
import type { ArtifactStore, StoredObject } from './artifact-store.js';
import { createDigestCheck } from './create-digest-check.js';
import { formatBytes } from './format-bytes.js';
import { codeOf, openRegularFile } from './open-regular-file.js';

/** See `FsArtifactStore.createTee`. */
export interface BlobTee {
  stream: Transform;
  commit(sha256: string): Promise<void>;
  discard(): Promise<void>;
}

const DIGEST = /^[0-9a-f]{64}$/;
/** Zero runs shorter than this are written: holes come in file-system blocks. */
const HOLE_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(HOLE_BYTES);
const READ_BYTES = 1024 * 1024;
/** Free space is looked at again after this many bytes written. */
const SPACE_CHECK_BYTES = 64 * 1024 * 1024;
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

export interface FsArtifactStoreOptions {
  /**
   * Bytes `put` leaves free on the store's file system; a file that would
   * eat into them is refused with `NO_SPACE`. @defaultValue 0
   */
  reserveBytes?: number;
}

export class FsArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly location: string;
  readonly reserveBytes: number;

  constructor(root: string, options: FsArtifactStoreOptions = {}) {
    this.root = root;
    this.location = root;
    this.reserveBytes = options.reserveBytes ?? 0;
  }

  async put(localPath: string): Promise<{ sha256: string; size: number }> {
    const handle = await openRegularFile(localPath);
    const tmpDir = join(this.root, 'tmp');
    const tmpPath = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    let blob: { sha256: string; size: number };
    try {
      const info = await handle.stat();
      // What the copy will take: the blocks in use (holes stay holes).
      const need = Math.min(info.size, info.blocks * 512);
      const free = await this.#spareBytes();
      if (free < need) {
        // Perhaps stored already (the same bytes from an earlier run).
        const known = await hashHandle(handle);
        if (await this.has(known.sha256)) return known;
        throw this.#full(localPath, need, free);
      }
      await this.#mkdirForWrite(tmpDir);
      blob = await this.#writeSparse(handle, tmpPath, localPath);
    } catch (error) {
      await unlink(tmpPath).catch(() => undefined);
      if (error instanceof ArtifactError) throw error;
      throw new ArtifactError(
        'IO_FAILED',
        `storing ${localPath} failed (${codeOf(error)}); check that the file is readable`,
        { cause: error },
      );
    } finally {
      await handle.close();
    }
    await this.commit(tmpPath, blob.sha256);
    return blob;
  }

  /**
   * Bytes a new blob may still take: free space of the store's file
   * system minus the reserve (never negative).
   */
  async freeBytes(): Promise<number> {
    return this.#spareBytes();
  }

  async #spareBytes(): Promise<number> {
    let info;
    try {
      await mkdir(this.root, { recursive: true });
      info = await statfs(this.root);
    } catch (error) {
      throw this.#writeFailed(
        `looking at free space under ${this.root}`,
        error,
      );
    }
    return Math.max(0, info.bavail * info.bsize - this.reserveBytes);
  }

  /**
   * Copies an open file to `tmpPath`, hashing it on the way; runs of zeros
   * are skipped (the file is extended to its size at the end), so holes
   * stay holes.
   */
  async #writeSparse(
    source: FileHandle,
    tmpPath: string,
    localPath: string,
  ): Promise<{ sha256: string; size: number }> {
    let out: FileHandle;
    try {
      out = await open(tmpPath, 'wx', 0o600);
    } catch (error) {
      throw this.#writeFailed(`storing ${localPath}`, error);
    }
    try {
      const hash = createHash('sha256');
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      let position = 0;
      let writtenSinceCheck = 0;
      for (;;) {
        const { bytesRead } = await source.read(
          buffer,
          0,
          READ_BYTES,
          position,
        );
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        hash.update(chunk);
        try {
          writtenSinceCheck += await writeNonZero(out, chunk, position);
        } catch (error) {
          throw this.#writeFailed(`storing ${localPath}`, error);
        }
        position += bytesRead;
        if (writtenSinceCheck >= SPACE_CHECK_BYTES) {
          writtenSinceCheck = 0;
          const free = await this.#spareBytes();
          if (free === 0) throw this.#full(localPath, 0, 0, position);
        }
      }
      try {
        await out.truncate(position);
        await out.close();
      } catch (error) {
        throw this.#writeFailed(`storing ${localPath}`, error);
      }
      return { sha256: hash.digest('hex'), size: position };
    } catch (error) {
      await out.close().catch(() => undefined);
      throw error;
    }
  }

  async #mkdirForWrite(path: string): Promise<void> {
    try {
      await mkdir(path, { recursive: true });
    } catch (error) {
      throw this.#writeFailed(`creating ${path}`, error);
    }
  }

  #full(
    localPath: string,
    need: number,
    free: number,
    written?: number,
  ): ArtifactError {
    const reserve =
      this.reserveBytes > 0
        ? ` beyond the ${formatBytes(this.reserveBytes)} kept free`
        : '';
    const detail =
      written === undefined
        ? `${localPath} needs ${formatBytes(need)} and only ${formatBytes(free)} is free${reserve}`
        : `it filled up while ${localPath} was written (${formatBytes(written)} in)`;
    return new ArtifactError(
      'NO_SPACE',
      `the artifact store at ${this.root} is full: ${detail}; nothing was stored — free space there (or move KILN_DATA_DIR / use KILN_ARTIFACTS_URL)`,
    );
  }

  /** A failure of the store's own disk: full, or refusing writes. */
  #writeFailed(what: string, error: unknown): ArtifactError {
    const code = codeOf(error);
    if (FULL_CODES.has(code)) {
      return new ArtifactError(
        'NO_SPACE',
        `the artifact store at ${this.root} is full (${code} while ${what}); nothing was stored — free space there (or move KILN_DATA_DIR / use KILN_ARTIFACTS_URL)`,
        { cause: error },
      );
    }
    return new ArtifactError(
      'UNAVAILABLE',
      `the artifact store at ${this.root} refused a write (${code} while ${what}); check the disk and its permissions`,
      { cause: error },
    );
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
      if (FULL_CODES.has(codeOf(error))) {
        throw this.#writeFailed(`storing ${what}`, error);
      }
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
      throw this.#writeFailed(`storing blob ${sha256}`, error);
    }
  }
}

/** Writes the parts of `chunk` that are not runs of zeros; returns bytes written. */
async function writeNonZero(
  out: FileHandle,
  chunk: Buffer,
  position: number,
): Promise<number> {
  let written = 0;
  let start = -1;
  const flush = async (end: number) => {
    if (start === -1) return;
    await writeFully(out, chunk.subarray(start, end), position + start);
    written += end - start;
    start = -1;
  };
  for (let offset = 0; offset < chunk.length; offset += HOLE_BYTES) {
    const end = Math.min(offset + HOLE_BYTES, chunk.length);
    const zero = chunk
      .subarray(offset, end)
      .equals(ZEROS.subarray(0, end - offset));
    if (zero) await flush(offset);
    else if (start === -1) start = offset;
  }
  await flush(chunk.length);
  return written;
}

async function writeFully(
  out: FileHandle,
  bytes: Buffer,
  position: number,
): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await out.write(
      bytes,
      offset,
      bytes.length - offset,
      position + offset,
    );
    offset += bytesWritten;
  }
}

async function hashHandle(
  handle: FileHandle,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  let size = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, size);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { sha256: hash.digest('hex'), size };
}
