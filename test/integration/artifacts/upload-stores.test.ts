/**
 * A step's `upload-store` against a real radosgw: outputs written through
 * to the user's bucket with the repository's keys, kiln's copy kept; fork
 * runs, unknown stores and refused writes end up as notes, never as a
 * failed or a half-recorded execution.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectOutputs } from '../../../src/artifacts/collect-outputs.js';
import { createS3Client } from '../../../src/artifacts/create-s3-client.js';
import { DataStoreAccess } from '../../../src/artifacts/data-store-access.js';
import { FsArtifactStore } from '../../../src/artifacts/fs-artifact-store.js';
import { UploadStores } from '../../../src/artifacts/upload-stores.js';
import { writeThroughOutputs } from '../../../src/worker/write-through-outputs.js';
import { haveCeph, startTestS3, type TestS3 } from '../../helpers/ceph-s3.js';

describe.skipIf(!haveCeph())('upload-store write-through (radosgw)', () => {
  let s3: TestS3;
  let dir: string;
  let owner: { accessKeyId: string; secretAccessKey: string };
  let ownerClient: S3Client;
  let bucket: string;
  let artifacts: FsArtifactStore;
  let files: Awaited<ReturnType<typeof collectOutputs>>['files'];

  function deps(secrets: Record<string, string>) {
    return {
      artifacts,
      logger: pino({ level: 'silent' }),
      secretsFor: async () => secrets,
      uploadStores: new UploadStores({
        stores: { lake: `s3://${bucket}/runs` },
        access: new DataStoreAccess({
          createClient: (options) =>
            createS3Client({
              endpoint: s3.endpoint,
              region: s3.region,
              ...options,
            }),
        }),
      }),
    };
  }

  async function keys(prefix: string): Promise<string[]> {
    const listed = await ownerClient.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }),
    );
    return (listed.Contents ?? []).map((item) => item.Key ?? '').sort();
  }

  beforeAll(async () => {
    s3 = await startTestS3();
    owner = await s3.createUser();
    ownerClient = s3.client(undefined, owner);
    bucket = await s3.createBucket({ as: ownerClient });
    dir = mkdtempSync(join(tmpdir(), 'kiln-upload-store-'));
    artifacts = new FsArtifactStore(join(dir, 'artifacts'));
    const outputs = join(dir, 'outputs');
    mkdirSync(join(outputs, 'plots'), { recursive: true });
    writeFileSync(join(outputs, 'model.pkl'), 'model bytes');
    writeFileSync(join(outputs, 'plots', 'loss.svg'), '<svg/>');
    files = (await collectOutputs(outputs, artifacts)).files;
  }, 300_000);

  afterAll(() => {
    ownerClient?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("writes every output under <prefix>/<repository>/<execution>/ with the repository's keys", async () => {
    const notes = await writeThroughOutputs(
      deps({
        AWS_ACCESS_KEY_ID: owner.accessKeyId,
        AWS_SECRET_ACCESS_KEY: owner.secretAccessKey,
      }),
      {
        step: { uploadStore: 'lake' },
        run: { repository: 'acme/iris', trusted: true },
        executionId: 'r1-0-1',
        files,
      },
    );

    expect(notes).toEqual([]);
    expect(await keys('runs/')).toEqual([
      'runs/acme/iris/r1-0-1/model.pkl',
      'runs/acme/iris/r1-0-1/plots/loss.svg',
    ]);
    const object = await ownerClient.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'runs/acme/iris/r1-0-1/model.pkl',
      }),
    );
    expect(await object.Body?.transformToString()).toBe('model bytes');
    expect(object.Metadata?.sha256).toBe(files[0]?.sha256);
    // kiln's own copy stays.
    expect(await artifacts.has(files[0]?.sha256 ?? '')).toBe(true);
  });

  it('takes an s3:// URL as the store, too', async () => {
    const notes = await writeThroughOutputs(
      deps({
        AWS_ACCESS_KEY_ID: owner.accessKeyId,
        AWS_SECRET_ACCESS_KEY: owner.secretAccessKey,
      }),
      {
        step: { uploadStore: `s3://${bucket}/direct` },
        run: { repository: 'acme/iris' },
        executionId: 'r2-0-1',
        files,
      },
    );

    expect(notes).toEqual([]);
    expect(await keys('direct/')).toHaveLength(2);
  });

  it('writes nothing for a fork run, an unknown store or without access, and says why', async () => {
    const keysOf = {
      AWS_ACCESS_KEY_ID: owner.accessKeyId,
      AWS_SECRET_ACCESS_KEY: owner.secretAccessKey,
    };
    const fork = await writeThroughOutputs(deps(keysOf), {
      step: { uploadStore: 'lake' },
      run: { repository: 'acme/iris', trusted: false },
      executionId: 'fork-0-1',
      files,
    });
    const unknown = await writeThroughOutputs(deps(keysOf), {
      step: { uploadStore: 'nowhere' },
      run: { repository: 'acme/iris' },
      executionId: 'unknown-0-1',
      files,
    });
    const denied = await writeThroughOutputs(deps({}), {
      step: { uploadStore: 'lake' },
      run: { repository: 'acme/iris' },
      executionId: 'denied-0-1',
      files,
    });

    expect(fork).toEqual([
      'outputs were not written to upload-store "lake": runs of fork pull requests get no data-lake credentials',
    ]);
    expect(unknown[0]).toContain('neither a store of KILN_DATA_STORES');
    expect(denied).toHaveLength(2);
    expect(denied[0]).toContain('HTTP 403');
    expect(denied[0]).toContain("kept in kiln's artifact store");
    expect(await keys('runs/acme/iris/fork-0-1/')).toEqual([]);
    expect(await keys('runs/acme/iris/denied-0-1/')).toEqual([]);
    expect(JSON.stringify([fork, unknown, denied])).not.toContain(
      owner.secretAccessKey,
    );
  });
});
