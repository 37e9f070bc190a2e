/**
 * Downloads one `http(s)://` input into a step's input folder, under the
 * operator's fetch policy (`InputFetchPolicy`: no loopback, link-local or
 * private addresses unless allowed, checked on the address really connected
 * to and again on every redirect). Credentials written in the URL
 * (`user:pass@`) are sent as a header and never appear in the returned
 * `uri`, in messages or in logs. With a cache, a file already downloaded is
 * revalidated with its ETag (`If-None-Match`) instead of downloaded again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactError } from './artifact-error.js';
import { createDigestCheck } from './create-digest-check.js';
import type { InputCache } from './input-cache.js';
import { InputError } from './input-error.js';
import { InputFetchPolicy } from './input-fetch-policy.js';

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
  /** @defaultValue the strict policy (public addresses only) */
  policy?: InputFetchPolicy;
  /** Where downloads are kept between executions; none: not kept. */
  cache?: InputCache;
  /** @defaultValue 5 */
  maxRedirects?: number;
}

export interface DownloadedInput {
  /** File name inside the input folder. */
  name: string;
  path: string;
  size: number;
  sha256: string;
  /** The URL without credentials: what the execution record keeps. */
  uri: string;
  /** The server's ETag for what was read, when it sent one. */
  etag?: string;
}

export const DEFAULT_MAX_INPUT_BYTES = 10 * 1024 ** 3;
export const DEFAULT_INPUT_TIMEOUT_MS = 30 * 60 * 1000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function downloadInput(
  options: DownloadInputOptions,
): Promise<DownloadedInput> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_INPUT_TIMEOUT_MS;
  const policy = options.policy ?? new InputFetchPolicy();
  const maxRedirects = options.maxRedirects ?? 5;
  const { url, authorization } = parseInputUri(options.uri, policy);
  const recorded = withoutCredentials(url);
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  const name = sanitiseFileName(options.filename ?? lastSegment(url));
  const path = join(options.destDir, name);
  const signal = AbortSignal.timeout(timeoutMs);
  // The cache entry is per URL and per credential, so one repository's
  // password never unlocks a file for another.
  const identity = `http\n${recorded}\n${authorization ? createHash('sha256').update(authorization).digest('hex') : ''}`;
  const cached = await options.cache?.lookup(identity);
  await mkdir(options.destDir, { recursive: true });

  const response = await follow({
    url,
    shown,
    policy,
    signal,
    maxRedirects,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(cached?.etag ? { 'if-none-match': cached.etag } : {}),
    },
  }).catch((error: unknown) => {
    throw asInputError(error, shown, signal, timeoutMs);
  });

  if (response.statusCode === 304 && options.cache && cached) {
    response.resume();
    await options.cache.blobs.copyTo(cached.sha256, path);
    return {
      name,
      path,
      size: cached.size,
      sha256: cached.sha256,
      uri: recorded,
      etag: cached.etag,
    };
  }
  if (response.statusCode !== 200) {
    response.resume();
    throw new InputError(
      'DOWNLOAD_FAILED',
      `downloading ${shown} failed: HTTP ${response.statusCode}; check the URL and its credentials`,
    );
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw tooLarge(shown, maxBytes);
  }
  const etag =
    typeof response.headers.etag === 'string'
      ? response.headers.etag
      : undefined;
  let blob: { sha256: string; size: number };
  try {
    if (options.cache) {
      blob = await options.cache.blobs.putStream(response, {
        maxBytes,
        onTooLarge: () => tooLarge(shown, maxBytes),
      });
      await options.cache.blobs.copyTo(blob.sha256, path);
      if (etag) await options.cache.remember(identity, { ...blob, etag });
    } else {
      blob = await writeFileFrom(response, path, {
        maxBytes,
        onTooLarge: () => tooLarge(shown, maxBytes),
      });
    }
  } catch (error) {
    throw asInputError(error, shown, signal, timeoutMs);
  }
  return {
    name,
    path,
    size: blob.size,
    sha256: blob.sha256,
    uri: recorded,
    ...(etag ? { etag } : {}),
  };
}

/** Streams `source` into `path` through a temporary name, hashing it. */
export async function writeFileFrom(
  source: Readable,
  path: string,
  options: { maxBytes?: number; onTooLarge?: () => Error } = {},
): Promise<{ sha256: string; size: number }> {
  const tmpPath = join(
    dirname(path),
    `.${randomBytes(8).toString('hex')}.kiln-download`,
  );
  const check = createDigestCheck(options);
  try {
    await pipeline(source, check, createWriteStream(tmpPath, { flags: 'wx' }));
    await rename(tmpPath, path);
  } catch (error) {
    source.destroy();
    await unlink(tmpPath).catch(() => undefined);
    throw error;
  }
  return { sha256: check.digest as string, size: check.bytes };
}

/** GETs `url`, following redirects that the policy allows. */
async function follow(options: {
  url: URL;
  shown: string;
  policy: InputFetchPolicy;
  signal: AbortSignal;
  maxRedirects: number;
  headers: Record<string, string>;
}): Promise<IncomingMessage> {
  let url = options.url;
  let headers = options.headers;
  for (let hop = 0; ; hop += 1) {
    const shown = `${url.protocol}//${url.host}${url.pathname}`;
    options.policy.checkUrl(url, shown);
    const response = await get(
      url,
      headers,
      options.policy,
      shown,
      options.signal,
    );
    const location = response.headers.location;
    if (!REDIRECTS.has(response.statusCode ?? 0) || !location) return response;
    response.resume();
    if (hop >= options.maxRedirects) {
      throw new InputError(
        'DOWNLOAD_FAILED',
        `downloading ${options.shown} failed: more than ${options.maxRedirects} redirects`,
      );
    }
    const next = new URL(location, url);
    if (url.protocol === 'https:' && next.protocol === 'http:') {
      throw new InputError(
        'DOWNLOAD_FAILED',
        `downloading ${options.shown} failed: it redirects from https to plain http, which kiln refuses`,
      );
    }
    // Credentials go to the origin they were written for, never further.
    if (next.origin !== url.origin) {
      headers = Object.fromEntries(
        Object.entries(headers).filter(([key]) => key !== 'authorization'),
      );
    }
    next.username = '';
    next.password = '';
    url = next;
  }
}

function get(
  url: URL,
  headers: Record<string, string>,
  policy: InputFetchPolicy,
  shown: string,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'GET',
        headers: { 'user-agent': 'kiln', ...headers },
        // Every connection's address is checked, after DNS resolution.
        lookup: policy.lookupFor(shown),
        agent: false,
        signal,
      },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
}

/**
 * Checks the scheme and moves URL credentials into a header: they must
 * never reach a record, a message or a log.
 */
function parseInputUri(
  uri: string,
  policy: InputFetchPolicy,
): { url: URL; authorization?: string } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InputError(
      'UNSUPPORTED_URI',
      'input URI is not a URL: only https://, http://, s3:// and datum:// inputs are supported',
    );
  }
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const user = safeDecode(url.username);
    const password = safeDecode(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  policy.checkUrl(url, `${url.protocol}//${url.host}${url.pathname}`);
  return { url, authorization };
}

/** `uri` without `user:password@`, as the execution record keeps it. */
export function withoutCredentials(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//');
  }
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function lastSegment(url: URL): string {
  return safeDecode(url.pathname.split('/').pop() ?? '');
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

function asInputError(
  error: unknown,
  shown: string,
  signal: AbortSignal,
  timeoutMs: number,
): InputError {
  if (error instanceof InputError) return error;
  if (error instanceof ArtifactError && error.code === 'CORRUPT') {
    return new InputError('CORRUPT', error.message, { cause: error });
  }
  const why = signal.aborted
    ? `timed out after ${timeoutMs} ms`
    : describe(error);
  return new InputError(
    'DOWNLOAD_FAILED',
    `downloading ${shown} failed (${why}); check that the URL is reachable from the kiln worker`,
    { cause: error },
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      return 'timed out';
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (cause && typeof cause.code === 'string') return cause.code;
    return error.name;
  }
  return 'unknown error';
}
