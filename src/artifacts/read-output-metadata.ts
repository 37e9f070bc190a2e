/**
 * Reads Valohai output metadata: `<file>.metadata.json` sidecars and the
 * root `valohai.metadata.jsonl` (lines `{"file": …, "metadata": {…}}`).
 * Reserved keys `valohai.tags` (list of strings) and `valohai.alias`
 * (string) are pulled out; any other key is a free property. When both
 * sources name a key, the sidecar wins (it is the more specific one); later
 * jsonl lines win over earlier ones. Bad metadata is reported, never fatal.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, posix } from 'node:path';

export interface OutputMetadata {
  tags: string[];
  alias?: string;
  properties?: Record<string, unknown>;
}

export interface ReadOutputMetadataOptions {
  outputsDir: string;
  /** Sidecar paths relative to `outputsDir` (POSIX). */
  sidecars: string[];
  /** The jsonl path relative to `outputsDir`, when present. */
  jsonl?: string;
  /** Problems are appended here as `{ path, reason }`. */
  skipped: Array<{ path: string; reason: string }>;
}

export const MAX_SIDECAR_BYTES = 1024 * 1024;
export const MAX_JSONL_BYTES = 16 * 1024 * 1024;
const MAX_TAGS = 100;
const MAX_TAG_CHARS = 200;
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Raw = Record<string, unknown>;

export async function readOutputMetadata(
  options: ReadOutputMetadataOptions,
): Promise<Map<string, OutputMetadata>> {
  const { outputsDir, skipped } = options;
  const raw = new Map<string, Raw>();
  const merge = (file: string, data: Raw): void => {
    const target = raw.get(file) ?? (Object.create(null) as Raw);
    for (const key of Object.keys(data)) {
      if (!UNSAFE_KEYS.has(key)) target[key] = data[key];
    }
    raw.set(file, target);
  };

  if (options.jsonl !== undefined) {
    const text = await readBounded(
      join(outputsDir, options.jsonl),
      MAX_JSONL_BYTES,
    );
    if (typeof text !== 'string') {
      skipped.push({ path: options.jsonl, reason: text.error });
    } else {
      text.split('\n').forEach((line, index) => {
        if (line.trim() === '') return;
        const entry = parseObject(line);
        const file =
          entry && typeof entry['file'] === 'string'
            ? normalise(entry['file'])
            : null;
        const metadata = entry?.['metadata'];
        if (file === null || !isObject(metadata)) {
          skipped.push({
            path: `${options.jsonl}:${index + 1}`,
            reason: 'expected {"file": "<relative path>", "metadata": {…}}',
          });
          return;
        }
        merge(file, metadata);
      });
    }
  }

  for (const sidecar of options.sidecars) {
    const text = await readBounded(
      join(outputsDir, sidecar),
      MAX_SIDECAR_BYTES,
    );
    const data = typeof text === 'string' ? parseObject(text) : null;
    if (data === null) {
      const reason =
        typeof text === 'string' ? 'metadata is not a JSON object' : text.error;
      skipped.push({ path: sidecar, reason });
      continue;
    }
    merge(sidecar.slice(0, -'.metadata.json'.length), data);
  }

  const result = new Map<string, OutputMetadata>();
  for (const [file, data] of raw) result.set(file, toMetadata(data));
  return result;
}

function toMetadata(data: Raw): OutputMetadata {
  const tags = data['valohai.tags'];
  const alias = data['valohai.alias'];
  const meta: OutputMetadata = {
    tags: Array.isArray(tags)
      ? [...new Set(tags.filter((t): t is string => typeof t === 'string'))]
          .map((t) => t.slice(0, MAX_TAG_CHARS))
          .slice(0, MAX_TAGS)
      : [],
  };
  if (typeof alias === 'string' && alias !== '')
    meta.alias = alias.slice(0, MAX_TAG_CHARS);
  const properties = Object.create(null) as Raw;
  let count = 0;
  for (const key of Object.keys(data)) {
    if (key === 'valohai.tags' || key === 'valohai.alias') continue;
    properties[key] = data[key];
    count++;
  }
  if (count > 0) meta.properties = properties;
  return meta;
}

/** A jsonl `file` as a clean relative POSIX path, or null if it escapes. */
function normalise(file: string): string | null {
  const clean = posix.normalize(file.replace(/\\/g, '/'));
  if (clean.startsWith('/') || clean === '..' || clean.startsWith('../'))
    return null;
  return clean.startsWith('./') ? clean.slice(2) : clean;
}

function parseObject(text: string): Raw | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a regular file (no symlink, no FIFO) of at most `maxBytes`. */
async function readBounded(
  path: string,
  maxBytes: number,
): Promise<string | { error: string }> {
  const flags =
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let handle;
  try {
    handle = await open(path, flags);
  } catch (error) {
    return {
      error: `unreadable metadata (${String((error as { code?: unknown }).code ?? error)})`,
    };
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { error: 'metadata is not a regular file' };
    if (info.size > maxBytes)
      return { error: `metadata larger than ${maxBytes} bytes` };
    const buffer = Buffer.alloc(info.size);
    const { bytesRead } = await handle.read(buffer, 0, info.size, 0);
    return buffer.toString('utf8', 0, bytesRead);
  } finally {
    await handle.close();
  }
}
