/**
 * S3ArtifactStore against a real radosgw: round trip between two "workers"
 * (two cache dirs, nothing shared but the bucket), multipart, content
 * addressing, corrupted objects refused, presigned GETs, and radosgw killed
 * mid-upload (a private radosgw, so other files don't see the outage).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactError } from '../../../src/artifacts/artifact-error.js';
import { collectOutputs } from '../../../src/artifacts/collect-outputs.js';
import { createS3Client } from '../../../src/artifacts/create-s3-client.js';
import { S3ArtifactStore } from '../../../src/artifacts/s3-artifact-store.js';
import { saveArtifactCopy } from '../../../src/artifacts/save-artifact-copy.js';
import {
  InputPreparationError,
  prepareInputs,
} from '../../../src/worker/prepare-inputs.js';
import type { WorkerDeps } from '../../../src/worker/worker-deps.js';
import { haveCeph, startTestS3, type TestS3 } from '../../helpers/ceph-s3.js';

const sha = (bytes: Buffer | string) =>
  createHash('sha256').update(bytes).digest('hex');

async function rejection(promise: Promise<unknown>): Promise<ArtifactError> {
  try {
    await promise;
  } catch (error) {
    return error as ArtifactError;
  }
  throw new Error('expected a rejection');
}

/** Counts the requests a client sends, by command name. */
function countRequests(client: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return counts;
}

describe.skipIf(!haveCeph())('S3ArtifactStore on radosgw', () => {
  let s3: TestS3;
  let bucket: string;
  let dir: string;
  let admin: S3Client;

  async function storeAt(
    name: string,
    options: {
      endpoint?: string;
      retry?: { attempts: number; delayMs: number };
    } = {},
  ): Promise<{ store: S3ArtifactStore; client: S3Client }> {
    const { client } = await createS3Client({
      endpoint: options.endpoint ?? s3.endpoint,
      region: s3.region,
      credentials: {
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
      },
      maxAttempts: 2,
      connectionTimeoutMs: 2000,
    });
    const store = new S3ArtifactStore({
      client,
      bucket,
      prefix: 'artifacts',
      cacheDir: join(dir, name),
      partSize: 5 * 1024 * 1024,
      retry: options.retry ?? { attempts: 2, delayMs: 100 },
    });
    return { store, client };
  }

  function file(name: string, content: Buffer | string): string {
    const path = join(dir, 'files', name);
    mkdirSync(join(dir, 'files'), { recursive: true });
    writeFileSync(path, content);
    return path;
  }

  beforeAll(async () => {
    s3 = await startTestS3();
    bucket = await s3.createBucket();
    admin = s3.client();
    dir = mkdtempSync(join(tmpdir(), 'kiln-s3-store-'));
  }, 300_000);

  afterAll(() => {
    admin?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores content-addressed and another worker reads it back with nothing shared but the bucket', async () => {
    const content = `weights ${randomBytes(8).toString('hex')}\n`.repeat(5000);
    const { store: first } = await storeAt('worker-1');
    const { store: second } = await storeAt('worker-2');

    const put = await first.put(file('model.bin', content));

    expect(put).toEqual({ sha256: sha(content), size: content.length });
    const head = await admin.send(
      new HeadObjectCommand({ Bucket: bucket, Key: first.keyOf(put.sha256) }),
    );
    expect(first.keyOf(put.sha256)).toBe(
      `artifacts/sha256/${put.sha256.slice(0, 2)}/${put.sha256.slice(2)}`,
    );
    expect(head.ContentLength).toBe(content.length);
    expect(head.Metadata?.sha256).toBe(put.sha256);
    expect(await second.has(put.sha256)).toBe(true);
    expect(await second.size(put.sha256)).toBe(content.length);
    const dest = join(dir, 'worker-2-inputs', 'model.bin');
    const object = await second.copyTo(put.sha256, dest);
    expect(object).toEqual({ etag: head.ETag });
    expect(readFileSync(dest, 'utf8')).toBe(content);
    expect(statSync(dest).mode & 0o222).toBe(0);
    expect((await buffer(await second.open(put.sha256))).toString()).toBe(
      content,
    );
    expect(second.location).toBe(`s3://${bucket}/artifacts/`);
  });

  it('uploads a large file in parts, and the same bytes only once', async () => {
    const content = randomBytes(12 * 1024 * 1024 + 123);
    const { store, client } = await storeAt('multipart');
    const counts = countRequests(client);

    const put = await store.put(file('big.bin', content));
    const again = await store.put(file('big-copy.bin', content));

    expect(again).toEqual(put);
    expect(counts.get('CreateMultipartUploadCommand')).toBe(1);
    expect(counts.get('UploadPartCommand')).toBe(3);
    expect(counts.get('CompleteMultipartUploadCommand')).toBe(1);
    const head = await admin.send(
      new HeadObjectCommand({ Bucket: bucket, Key: store.keyOf(put.sha256) }),
    );
    expect(head.ETag).toMatch(/-3"$/);
    expect(head.ContentLength).toBe(content.length);
    const { store: reader } = await storeAt('multipart-reader');
    const dest = join(dir, 'multipart-out', 'big.bin');
    expect(await reader.copyTo(put.sha256, dest)).toEqual({ etag: head.ETag });
    expect(sha(readFileSync(dest))).toBe(put.sha256);
  });

  it('says which object version a copy came from, downloaded or cached', async () => {
    const versioned = await s3.createBucket({ versioned: true });
    const at = async (name: string) =>
      new S3ArtifactStore({
        client: (await storeAt(name)).client,
        bucket: versioned,
        prefix: 'kiln',
        cacheDir: join(dir, name),
      });
    const writer = await at('versioned-writer');
    const reader = await at('versioned-reader');
    const content = `model ${randomBytes(8).toString('hex')}`;
    const put = await writer.put(file('versioned.bin', content));
    const head = await admin.send(
      new HeadObjectCommand({
        Bucket: versioned,
        Key: writer.keyOf(put.sha256),
      }),
    );

    const downloaded = await reader.copyTo(
      put.sha256,
      join(dir, 'versioned-out', 'downloaded.bin'),
    );
    const cached = await writer.copyTo(
      put.sha256,
      join(dir, 'versioned-out', 'cached.bin'),
    );

    expect(head.VersionId).toMatch(/\S/);
    expect(head.VersionId).not.toBe('null');
    expect(downloaded).toEqual({ etag: head.ETag, versionId: head.VersionId });
    expect(cached).toEqual(downloaded);
  });

  it('refuses a corrupted object on every read path and writes nothing', async () => {
    const content = `metrics ${randomBytes(8).toString('hex')}`;
    const { store: writer } = await storeAt('corrupt-writer');
    const { sha256 } = await writer.put(file('metrics.json', content));
    // Someone changes the bytes behind kiln's back (same key, same metadata).
    await admin.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: writer.keyOf(sha256),
        Body: content.replace('metrics', 'METRICS'),
        Metadata: { sha256 },
      }),
    );
    const { store: reader } = await storeAt('corrupt-reader');
    const dest = join(dir, 'corrupt-out', 'metrics.json');

    const copied = await rejection(reader.copyTo(sha256, dest));
    expect(copied.code).toBe('CORRUPT');
    expect(copied.message).toContain(sha256);
    expect(existsSync(dest)).toBe(false);
    expect(await reader.cache.has(sha256)).toBe(false);

    const streamed = await rejection(buffer(await reader.open(sha256)));
    expect(streamed.code).toBe('CORRUPT');

    const saved = join(dir, 'corrupt-out', 'download.json');
    const copy = await rejection(saveArtifactCopy(reader, sha256, saved));
    expect(copy.code).toBe('CORRUPT');
    expect(existsSync(saved)).toBe(false);
  });

  it('presigns a GET that works over plain HTTP, with the file name', async () => {
    const content = `report ${randomBytes(8).toString('hex')}`;
    const { store } = await storeAt('presign');
    const { sha256 } = await store.put(file('report.txt', content));

    const url = await store.downloadUrl(sha256, {
      contentDisposition: 'attachment; filename="report.txt"',
      expiresInSeconds: 60,
    });
    const response = await fetch(url);

    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(url).toContain('X-Amz-Signature=');
    expect(url).not.toContain(s3.secretAccessKey);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="report.txt"',
    );
    expect(await response.text()).toBe(content);
    const unsigned = await fetch(url.slice(0, url.indexOf('?')));
    expect(unsigned.status).toBe(403);
    await unsigned.body?.cancel();
  });

  it('uploads its own cached copy: a file that changes once read is stored as it was read', async () => {
    const { store, client } = await storeAt('changing');
    const path = file('changing.bin', randomBytes(6 * 1024 * 1024));
    const before = readFileSync(path);
    let changed = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        // Read and hashed already; the upload must not read other bytes.
        if (context.commandName === 'HeadObjectCommand' && !changed) {
          changed = true;
          writeFileSync(path, randomBytes(before.length));
        }
        return next(args);
      },
      { step: 'initialize', name: 'changeFile' },
    );

    const put = await store.put(path);

    expect(changed).toBe(true);
    expect(put).toEqual({ sha256: sha(before), size: before.length });
    expect(await store.cache.has(put.sha256)).toBe(true);
    const stored = await admin.send(
      new GetObjectCommand({ Bucket: bucket, Key: store.keyOf(put.sha256) }),
    );
    expect(sha(Buffer.from(await stored.Body!.transformToByteArray()))).toBe(
      put.sha256,
    );
  });

  it('rejects unknown and malformed digests', async () => {
    const { store } = await storeAt('unknown');
    const unknown = sha('never stored');

    expect(await store.has(unknown)).toBe(false);
    expect(await store.size(unknown)).toBeNull();
    expect((await rejection(store.copyTo(unknown, join(dir, 'x')))).code).toBe(
      'NOT_FOUND',
    );
    expect((await rejection(store.has('../../etc/passwd'))).code).toBe(
      'INVALID_DIGEST',
    );
  });

  describe('radosgw stopped mid-upload', () => {
    it('is retried, and the upload completes when radosgw is back', async () => {
      const rgw = await s3.startPrivateRadosgw();
      try {
        const { store, client } = await storeAt('retry', {
          endpoint: rgw.endpoint,
          retry: { attempts: 4, delayMs: 200 },
        });
        const counts = countRequests(client);
        let killed = false;
        client.middlewareStack.add(
          (next, context) => async (args) => {
            if (context.commandName === 'UploadPartCommand' && !killed) {
              killed = true;
              await rgw.kill();
              // Back a moment later: a later attempt finds it up again.
              setTimeout(() => void rgw.start(), 300);
            }
            return next(args);
          },
          { step: 'initialize', name: 'killRadosgw' },
        );
        const content = randomBytes(11 * 1024 * 1024);

        const put = await store.put(file('retried.bin', content));

        expect(killed).toBe(true);
        expect(put.sha256).toBe(sha(content));
        expect(counts.get('UploadPartCommand')).toBeGreaterThan(3);
        const dest = join(dir, 'retried-out', 'retried.bin');
        const { store: reader } = await storeAt('retried-reader');
        await reader.copyTo(put.sha256, dest);
        expect(sha(readFileSync(dest))).toBe(put.sha256);
      } finally {
        await rgw.close();
      }
    });

    it("makes a datum input from an unreachable store an infrastructure error, a corrupt one the input's", async () => {
      const rgw = await s3.startPrivateRadosgw();
      try {
        const { store: writer } = await storeAt('datum-writer');
        const content = `model ${randomBytes(8).toString('hex')}`;
        const good = await writer.put(file('datum.bin', content));
        const bad = await writer.put(file('datum-bad.bin', `${content}!`));
        await admin.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: writer.keyOf(bad.sha256),
            Body: `${content}?`,
            Metadata: { sha256: bad.sha256 },
          }),
        );
        const { store } = await storeAt('datum-reader', {
          endpoint: rgw.endpoint,
          retry: { attempts: 2, delayMs: 100 },
        });
        const prepare = (sha256: string, size: number) =>
          prepareInputs(
            {
              executions: {
                resolveDatum: async (id: string) => ({
                  id,
                  sha256,
                  size,
                  path: 'model.bin',
                  executionId: 'e1',
                }),
              } as unknown as WorkerDeps['executions'],
              artifacts: store,
            },
            {
              inputs: [
                {
                  name: 'model',
                  default: [],
                  optional: false,
                  keepDirectories: 'none',
                  download: 'always',
                },
              ],
              uris: { model: ['datum://d1'] },
              dir: mkdtempSync(join(dir, 'datum-inputs-')),
              repository: 'acme/iris',
              trusted: true,
            },
          );

        const corrupt = await rejection(prepare(bad.sha256, bad.size));
        await rgw.kill();
        const down = await rejection(prepare(good.sha256, good.size));

        expect(corrupt).toBeInstanceOf(InputPreparationError);
        expect(corrupt.message).toContain('input "model"');
        expect(corrupt.message).toContain('corrupt');
        expect(down).not.toBeInstanceOf(InputPreparationError);
        expect(down.code).toBe('UNAVAILABLE');
      } finally {
        await rgw.close();
      }
    });

    it('ends in a clear infrastructure error, with no object and no output recorded', async () => {
      const rgw = await s3.startPrivateRadosgw();
      try {
        const { store, client } = await storeAt('down', {
          endpoint: rgw.endpoint,
          retry: { attempts: 3, delayMs: 100 },
        });
        client.middlewareStack.add(
          (next, context) => async (args) => {
            if (context.commandName === 'UploadPartCommand') await rgw.kill();
            return next(args);
          },
          { step: 'initialize', name: 'killRadosgw' },
        );
        const outputs = join(dir, 'down-outputs');
        mkdirSync(outputs);
        const content = randomBytes(11 * 1024 * 1024);
        writeFileSync(join(outputs, 'model.bin'), content);

        const error = await rejection(collectOutputs(outputs, store));

        expect(error.code).toBe('UNAVAILABLE');
        expect(error.message).toContain(`s3://${bucket}/artifacts/`);
        expect(error.message).toMatch(/after 3 attempts \(ECONNREFUSED\)/);
        expect(error.message).not.toContain(s3.secretAccessKey);
        // Nothing under the blob's key: the parts never became an object.
        await rgw.start();
        expect(await store.has(sha(content))).toBe(false);
        await expect(
          admin.send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: store.keyOf(sha(content)),
            }),
          ),
        ).rejects.toMatchObject({ name: 'NoSuchKey' });
      } finally {
        await rgw.close();
      }
    });
  });
});
