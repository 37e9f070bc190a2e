/**
 * Packs the worker's folders of a step into one tar stream, each under its
 * own top-level name (`m0/…`, `m1/…`), for the Pod's `kiln-files-in`
 * container to unpack. Streams file contents (never a whole file in
 * memory); the consumer's pace is the pack's pace.
 *
 * Entries keep what a step can tell apart: directories, regular files (with
 * their execute bits) and symbolic links (as links, the way a bind mount
 * shows them). Owners are not kept (the unpacking side does not restore
 * them) and modes are normalised so that any user of the image can read
 * (and, in a writable folder, write). Sockets, devices and FIFOs are left
 * out. The last entry is an empty marker file, so the unpacking side can
 * tell a complete archive from a cut stream.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Pack } from 'tar-stream';

export interface PackedFolder {
  /** Top-level name in the archive. */
  name: string;
  hostPath: string;
  /** The step may write in it: its root is world-writable in the Pod. */
  writable: boolean;
}

export function packFolders(
  folders: readonly PackedFolder[],
  marker: string,
): Pack {
  const pack = tar.pack();
  void (async () => {
    const mtime = new Date();
    for (const folder of folders) {
      await addEntry(pack, {
        name: folder.name,
        type: 'directory',
        mode: folder.writable ? 0o777 : 0o755,
        mtime,
      });
      await addTree(pack, folder.hostPath, folder.name);
    }
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        { name: marker, type: 'file', mtime },
        Buffer.alloc(0),
        (error) => (error ? reject(error) : resolve()),
      );
    });
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error as Error));
  return pack;
}

async function addTree(
  pack: Pack,
  hostDir: string,
  prefix: string,
): Promise<void> {
  const entries = await readdir(hostDir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const hostPath = join(hostDir, entry.name);
    const name = `${prefix}/${entry.name}`;
    if (entry.isSymbolicLink()) {
      await addEntry(pack, {
        name,
        type: 'symlink',
        linkname: await readlink(hostPath),
      });
    } else if (entry.isDirectory()) {
      const stat = await lstat(hostPath);
      await addEntry(pack, {
        name,
        type: 'directory',
        mode: 0o755,
        mtime: stat.mtime,
      });
      await addTree(pack, hostPath, name);
    } else if (entry.isFile()) {
      const stat = await lstat(hostPath);
      const header = {
        name,
        type: 'file' as const,
        size: stat.size,
        mode: stat.mode & 0o111 ? 0o755 : 0o644,
        mtime: stat.mtime,
      };
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(header, (error) =>
          error ? reject(error) : resolve(),
        );
        pipeline(createReadStream(hostPath), sink).catch(reject);
      });
    }
  }
}

/** An entry without content (a directory or a link). */
function addEntry(
  pack: Pack,
  header: Parameters<Pack['entry']>[0],
): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (error) => (error ? reject(error) : resolve()));
  });
}
