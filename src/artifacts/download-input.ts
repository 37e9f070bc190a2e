/**
 * Downloads one `http(s)://` input into a step's input folder. Input URIs
 * come from the repository, so nothing else is fetched: no `file:` (a step
 * must never read the kiln host), no cloud schemes yet. `datum://` is
 * resolved by the worker from the artifact store, not here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { InputError } from './input-error.js';

export interface DownloadInputOptions {
  uri: string;
  /** Existing or new folder the file is written to. */
  destDir: string;
  /** File name to use (sanitised); else the URL's last path segment. */
  filename?: string;
  /** @defaultValue 10 GiB */
  maxBytes?: number;
  /** Whole download, headers to last byte. @defaultValue 30 minutes */
  timeoutMs?: number;
  /** Injected for tests. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

export interface DownloadedInput {
  name: string;
  path: string;
  size: number;
  sha256: string;
}

export const DEFAULT_MAX_INPUT_BYTES = 10 * 1024 ** 3;
export const DEFAULT_INPUT_TIMEOUT_MS = 30 * 60 * 1000;
const SUPPORTED =
  'only http(s):// and datum:// inputs are supported; file paths on the kiln host are never readable by steps';

export async function downloadInput(
  options: DownloadInputOptions,
): Promise<DownloadedInput> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_INPUT_TIMEOUT_MS;
  const doFetch = options.fetch ?? globalThis.fetch;
  const { url, shown, authorization } = parseInputUri(options.uri);
  const name = sanitiseFileName(options.filename ?? lastSegment(url));
  const path = join(options.destDir, name);
  const tmpPath = join(
    options.destDir,
    `.${randomBytes(8).toString('hex')}.kiln-download`,
  );
  const signal = AbortSignal.timeout(timeoutMs);

  let response: Response;
  try {
    response = await doFetch(url, {
      signal,
      headers: authorization ? { authorization } : {},
    });
  } catch (error) {
    throw new InputError(
      'DOWNLOAD_FAILED',
      `downloading ${shown} failed (${signal.aborted ? `timed out after ${timeoutMs} ms` : describe(error)}); check that the URL is reachable from the kiln worker`,
      { cause: error },
    );
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => undefined);
    throw new InputError(
      'DOWNLOAD_FAILED',
      `downloading ${shown} failed: HTTP ${response.status}; check the URL and its credentials`,
    );
  }
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body.cancel().catch(() => undefined);
    throw tooLarge(shown, maxBytes);
  }

  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) {
        callback(tooLarge(shown, maxBytes));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await mkdir(options.destDir, { recursive: true });
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      meter,
      createWriteStream(tmpPath, { flags: 'wx' }),
      { signal },
    );
    await rename(tmpPath, path);
  } catch (error) {
    await unlink(tmpPath).catch(() => undefined);
    if (error instanceof InputError) throw error;
    throw new InputError(
      'DOWNLOAD_FAILED',
      `downloading ${shown} failed after ${size} bytes (${signal.aborted ? `timed out after ${timeoutMs} ms` : describe(error)})`,
      { cause: error },
    );
  }
  return { name, path, size, sha256: hash.digest('hex') };
}

/**
 * Checks the scheme and moves URL credentials into a header: fetch refuses
 * URLs with credentials, and they must never reach a message or a log.
 */
function parseInputUri(uri: string): {
  url: URL;
  shown: string;
  authorization?: string;
} {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InputError(
      'UNSUPPORTED_URI',
      `input URI is not a URL: ${SUPPORTED}`,
    );
  }
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(
      'UNSUPPORTED_URI',
      `cannot read input ${url.protocol}//${url.host}…: ${SUPPORTED}`,
    );
  }
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return { url, shown, authorization };
}

function lastSegment(url: URL): string {
  const segment = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * A safe single path component: no separators, no control characters,
 * never `.` or `..`, at most 255 bytes; `download` when nothing is left.
 */
export function sanitiseFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  let clean = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  clean = clean.slice(0, 255);
  while (Buffer.byteLength(clean) > 255) clean = clean.slice(0, -1);
  if (clean === '' || /^\.+$/.test(clean)) return 'download';
  return clean;
}

function tooLarge(shown: string, maxBytes: number): InputError {
  return new InputError(
    'TOO_LARGE',
    `input ${shown} is larger than the ${maxBytes}-byte limit; use a smaller file or raise the input size limit`,
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (cause && typeof cause.code === 'string') return cause.code;
    return error.name;
  }
  return 'unknown error';
}
