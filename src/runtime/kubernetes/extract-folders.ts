/**
 * Unpacks a tar stream made in the Pod (`tar -c m2 …` in `kiln-files-out`)
 * into the worker's folders: `m2/a/b.txt` lands in `targets.m2` as `a/b.txt`.
 *
 * The archive is written by the step's untrusted code, so nothing in it may
 * reach outside its folder: paths are checked component by component (no
 * `..`, no absolute names, no control characters), and no entry is written
 * beneath a symbolic link this archive created. Symbolic links themselves
 * are created as links (the output collector reports and skips them, as it
 * does for a Docker step); hard links become copies of a file unpacked
 * earlier; devices and FIFOs are skipped. Files are opened with
 * O_NOFOLLOW, so even a link that appeared some other way is never
 * followed. Modes are kept, minus set-id bits.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, open, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { ExtractEvents } from 'tar-stream';

type Entry = ExtractEvents['entry'][1];

export interface ExtractResult {
  files: number;
  bytes: number;
  /** Entries not unpacked, with why (said to the user as notes). */
  skipped: string[];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export async function extractFolders(
  archive: Readable,
  targets: Readonly<Record<string, string>>,
): Promise<ExtractResult> {
  const extract = tar.extract();
  const links = new Set<string>();
  const unpacked = new Map<string, string>();
  const result: ExtractResult = { files: 0, bytes: 0, skipped: [] };
  const feeding = pipeline(archive, extract);

  for await (const entry of extract) {
    const { header } = entry;
    const place = resolveEntry(header.name, targets, links);
    if (!place.ok) {
      if (place.problem !== null) {
        result.skipped.push(`${JSON.stringify(header.name)}: ${place.problem}`);
      }
      entry.resume();
      continue;
    }
    const { path, key } = place;
    try {
      await unpackEntry(entry, path, key, { links, unpacked, result });
    } catch (error) {
      // A clash the archive made itself (a file where a folder is, a name
      // twice): that entry is skipped, the rest still lands.
      const code = (error as NodeJS.ErrnoException).code;
      if (!code || !SKIPPABLE.has(code)) throw error;
      result.skipped.push(`${JSON.stringify(header.name)}: ${code}`);
      entry.resume();
    }
  }
  await feeding;
  return result;
}

const SKIPPABLE = new Set(['EEXIST', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENOENT']);

interface UnpackState {
  links: Set<string>;
  unpacked: Map<string, string>;
  result: ExtractResult;
}

async function unpackEntry(
  entry: Entry,
  path: string,
  key: string,
  state: UnpackState,
): Promise<void> {
  const { header } = entry;
  if (header.type === 'directory') {
    await mkdir(path, { recursive: true });
    entry.resume();
  } else if (header.type === 'file' || header.type === 'contiguous-file') {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(
      path,
      constants.O_WRONLY |
        constants.O_CREAT |
        constants.O_TRUNC |
        constants.O_NOFOLLOW,
      (header.mode ?? 0o644) & 0o777,
    );
    await pipeline(entry, handle.createWriteStream());
    state.unpacked.set(key, path);
    state.result.files += 1;
    state.result.bytes += header.size ?? 0;
  } else if (header.type === 'symlink' && header.linkname) {
    await symlink(header.linkname, path);
    state.links.add(key);
    entry.resume();
  } else if (header.type === 'link' && header.linkname) {
    const source = state.unpacked.get(normalise(header.linkname) ?? '');
    if (source === undefined) {
      state.result.skipped.push(
        `${JSON.stringify(header.name)}: hard link to a file not in the archive`,
      );
    } else {
      await copyFile(source, path);
      state.unpacked.set(key, path);
      state.result.files += 1;
    }
    entry.resume();
  } else {
    state.result.skipped.push(
      `${JSON.stringify(header.name)}: not a regular file (${header.type ?? 'unknown'})`,
    );
    entry.resume();
  }
}

/** `./m2/a/b` → `m2/a/b`; null when the name can't be a relative path. */
function normalise(name: string): string | null {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (
    name.startsWith('/') ||
    parts.length === 0 ||
    parts.some((part) => part === '..' || CONTROL.test(part))
  ) {
    return null;
  }
  return parts.join('/');
}

function resolveEntry(
  name: string,
  targets: Readonly<Record<string, string>>,
  links: ReadonlySet<string>,
):
  | { ok: true; path: string; key: string }
  | { ok: false; problem: string | null } {
  const key = normalise(name);
  if (key === null) {
    return {
      ok: false,
      problem: 'unsafe path (absolute, .. or control characters)',
    };
  }
  const parts = key.split('/');
  const root = Object.hasOwn(targets, parts[0]!)
    ? targets[parts[0]!]
    : undefined;
  if (root === undefined) {
    return { ok: false, problem: 'outside the folders asked for' };
  }
  // The folder itself: already there.
  if (parts.length === 1) return { ok: false, problem: null };
  for (let end = 1; end < parts.length; end += 1) {
    if (links.has(parts.slice(0, end).join('/'))) {
      return { ok: false, problem: 'beneath a symbolic link' };
    }
  }
  return { ok: true, path: join(root, ...parts.slice(1)), key };
}
