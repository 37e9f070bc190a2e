/**
 * Downloads an `s3://bucket/key` input, or every object an
 * `s3://bucket/prefix/*` glob matches (Valohai's wildcards: `*` within one
 * path segment, `**` across segments), into a step's input folder. Each file
 * is recorded with the exact object read: its key, ETag and version id (on
 * versioned buckets), size and SHA-256. Reads are pinned to the ETag seen
 * first (`If-Match`), so an object replaced mid-download fails instead of
 * mixing versions. Downloads go through the worker's input cache.
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describeS3Error } from './describe-s3-error.js';
import { sanitiseFileName } from './download-input.js';
import type { InputCache } from './input-cache.js';
import { InputError } from './input-error.js';
import type { S3Url } from './parse-s3-url.js';

export interface DownloadS3InputOptions {
  client: S3Client;
  /** Distinguishes servers in the cache: the endpoint, or `aws:<region>`. */
  server: string;
  source: S3Url;
  destDir: string;
  /** Name of the file when the URL names one object. */
  filename?: string;
  /** How a glob's keys become paths in the folder (Valohai's keep-directories). */
  keepDirectories: 'none' | 'full' | 'suffix';
  cache: InputCache;
  maxBytes: number;
  /** A glob matching more objects than this fails. @defaultValue 10000 */
  maxObjects?: number;
  /** Why the credentials may be missing, for a 403's message. */
  accessHint: string;
}

export interface DownloadedS3Input {
  /** Path inside the input folder (POSIX). */
  name: string;
  size: number;
  sha256: string;
  /** `s3://bucket/key` of the object read. */
  uri: string;
  etag?: string;
  versionId?: string;
}

interface ObjectVersion {
  key: string;
  size: number;
  etag?: string;
}

export async function downloadS3Input(
  options: DownloadS3InputOptions,
): Promise<DownloadedS3Input[]> {
  const { bucket, key } = options.source;
  const wildcard = key.search(/[*]/);
  if (wildcard === -1) {
    const head = await send(options, `s3://${bucket}/${key}`, () =>
      options.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    );
    const object = {
      key,
      size: head.ContentLength ?? 0,
      etag: head.ETag,
    };
    const name = sanitiseFileName(options.filename ?? lastSegment(key));
    return [
      await fetchObject(options, object, name, {
        versionId: head.VersionId,
      }),
    ];
  }

  const literal = key.slice(0, wildcard);
  const pattern = globToRegExp(key);
  const matches: ObjectVersion[] = [];
  const maxObjects = options.maxObjects ?? 10_000;
  let token: string | undefined;
  do {
    const page = await send(options, `s3://${bucket}/${key}`, () =>
      options.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: literal,
          ContinuationToken: token,
        }),
      ),
    );
    for (const item of page.Contents ?? []) {
      if (!item.Key || item.Key.endsWith('/') || !pattern.test(item.Key)) {
        continue;
      }
      matches.push({ key: item.Key, size: item.Size ?? 0, etag: item.ETag });
      if (matches.length > maxObjects) {
        throw new InputError(
          'TOO_LARGE',
          `input s3://${bucket}/${key} matches more than ${maxObjects} objects; narrow the pattern`,
        );
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (matches.length === 0) {
    throw new InputError(
      'NO_MATCH',
      `input s3://${bucket}/${key} matches no object; check the bucket, the prefix and the pattern`,
    );
  }
  const base = literal.slice(0, literal.lastIndexOf('/') + 1);
  const names = new Map<string, string>();
  const results: DownloadedS3Input[] = [];
  for (const object of matches.sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const name = relativeName(object.key, base, options.keepDirectories);
    const other = names.get(name);
    if (other !== undefined) {
      throw new InputError(
        'NO_MATCH',
        `input s3://${bucket}/${key}: s3://${bucket}/${other} and s3://${bucket}/${object.key} would both be "${name}"; set keep-directories: suffix (or full) on the input`,
      );
    }
    names.set(name, object.key);
    results.push(await fetchObject(options, object, name));
  }
  return results;
}

async function fetchObject(
  options: DownloadS3InputOptions,
  object: ObjectVersion,
  name: string,
  /** Set when a HEAD already answered for this object (run's credentials). */
  headed?: { versionId?: string },
): Promise<DownloadedS3Input> {
  let knownVersionId = headed?.versionId;
  const { bucket } = options.source;
  const uri = `s3://${bucket}/${object.key}`;
  if (object.size > options.maxBytes) {
    throw new InputError(
      'TOO_LARGE',
      `input ${uri} is ${object.size} bytes, over the ${options.maxBytes}-byte limit`,
    );
  }
  const identity = `s3\n${options.server}\n${bucket}\n${object.key}\n${object.etag ?? ''}`;
  const path = join(options.destDir, ...name.split('/'));
  let entry = object.etag ? await options.cache.lookup(identity) : null;
  if (entry && !headed) {
    // Listed, not yet read: a HEAD with the run's credentials checks it may
    // read the object before the cache hands it over.
    const head = await send(options, uri, () =>
      options.client.send(
        new HeadObjectCommand({
          Bucket: bucket,
          Key: object.key,
          IfMatch: object.etag,
        }),
      ),
    );
    knownVersionId = head.VersionId;
  }
  if (!entry) {
    const response = await send(options, uri, () =>
      options.client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: object.key,
          ...(object.etag ? { IfMatch: object.etag } : {}),
        }),
      ),
    );
    const blob = await options.cache.blobs
      .putStream(response.Body as Readable, {
        maxBytes: options.maxBytes,
        onTooLarge: () =>
          new InputError(
            'TOO_LARGE',
            `input ${uri} is over the ${options.maxBytes}-byte limit`,
          ),
      })
      .catch((error: unknown) => {
        if (error instanceof InputError) throw error;
        throw new InputError(
          'DOWNLOAD_FAILED',
          `downloading ${uri} failed (${describeS3Error(error)})`,
          { cause: error },
        );
      });
    entry = {
      ...blob,
      etag: response.ETag ?? object.etag,
      versionId: response.VersionId ?? knownVersionId,
    };
    if (entry.etag) await options.cache.remember(identity, entry);
  }
  await options.cache.blobs.copyTo(entry.sha256, path);
  const result: DownloadedS3Input = {
    name,
    size: entry.size,
    sha256: entry.sha256,
    uri,
  };
  if (entry.etag) result.etag = entry.etag;
  const versionId = entry.versionId ?? knownVersionId;
  if (versionId && versionId !== 'null') result.versionId = versionId;
  return result;
}

/** Runs one S3 request; its failure becomes an `InputError` saying why. */
async function send<T>(
  options: DownloadS3InputOptions,
  uri: string,
  request: () => Promise<T>,
): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } })
      .$metadata?.httpStatusCode;
    const hint =
      status === 403
        ? `: access denied; ${options.accessHint}`
        : status === 404
          ? ': no such bucket or object'
          : status === 412
            ? ': the object changed while it was read; run again'
            : '; is the object store reachable from the kiln worker?';
    throw new InputError(
      'DOWNLOAD_FAILED',
      `reading input ${uri} failed (${describeS3Error(error)})${hint}`,
      { cause: error },
    );
  }
}

/** `*` matches within a path segment, `**` across segments. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i] as string;
    if (char === '*') {
      if (glob[i + 1] === '*') {
        source += '.*';
        i += 1;
      } else {
        source += '[^/]*';
      }
    } else {
      source += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function relativeName(
  key: string,
  base: string,
  keep: 'none' | 'full' | 'suffix',
): string {
  const kept =
    keep === 'full'
      ? key
      : keep === 'suffix'
        ? key.slice(base.length)
        : lastSegment(key);
  const segments = kept
    .split('/')
    .filter((part) => part !== '' && part !== '.');
  if (segments.length === 0 || segments.includes('..')) {
    throw new InputError(
      'UNSUPPORTED_URI',
      `object key ${JSON.stringify(key.slice(0, 200))} can't be a file name in the input folder`,
    );
  }
  return segments.map(sanitiseFileName).join('/');
}

function lastSegment(key: string): string {
  return key.split('/').pop() ?? '';
}
