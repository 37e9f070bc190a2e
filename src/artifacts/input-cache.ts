/**
 * A worker's cache of downloaded inputs: blobs by SHA-256 (an
 * `FsArtifactStore`), and an index from "this version of this source" (an
 * S3 object's ETag and version, an https URL's ETag) to the blob. Sources
 * are only looked up here after the source itself has answered the request
 * (a HEAD, a conditional GET) with the run's own credentials, so the cache
 * never serves a file to a run that could not read it.
 *
 * Everything here can be deleted at any time (the worker downloads again).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FsArtifactStore } from './fs-artifact-store.js';

export interface CachedSource {
  sha256: string;
  size: number;
  etag?: string;
  versionId?: string;
}

export class InputCache {
  readonly blobs: FsArtifactStore;
  private readonly indexDir: string;

  constructor(dir: string) {
    this.blobs = new FsArtifactStore(join(dir, 'blobs'));
    this.indexDir = join(dir, 'index');
  }

  /** The blob for `identity`, when both the entry and the blob are there. */
  async lookup(identity: string): Promise<CachedSource | null> {
    let entry: CachedSource;
    try {
      entry = JSON.parse(
        await readFile(this.pathOf(identity), 'utf8'),
      ) as CachedSource;
    } catch {
      return null;
    }
    if (typeof entry?.sha256 !== 'string') return null;
    const size = await this.blobs.size(entry.sha256).catch(() => null);
    return size === entry.size ? entry : null;
  }

  async remember(identity: string, entry: CachedSource): Promise<void> {
    await mkdir(this.indexDir, { recursive: true });
    const path = this.pathOf(identity);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(entry));
    await rename(tmp, path);
  }

  private pathOf(identity: string): string {
    return join(
      this.indexDir,
      createHash('sha256').update(identity).digest('hex'),
    );
  }
}
