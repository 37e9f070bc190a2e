/**
 * Output downloads from the API with an S3 artifact store on a real
 * radosgw: a 302 to a presigned GET that works over plain HTTP (the bytes
 * don't pass through kiln), or, with KILN_ARTIFACTS_DOWNLOAD=proxy, the
 * bytes streamed by kiln and cut off when the object is corrupt.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../../src/artifacts/create-s3-client.js';
import { S3ArtifactStore } from '../../../src/artifacts/s3-artifact-store.js';
import { haveCeph, startTestS3, type TestS3 } from '../../helpers/ceph-s3.js';
import { haveRedis } from '../../helpers/services.js';
import { startWebFixture, type WebFixture } from './web-fixture.js';

describe.skipIf(!haveRedis() || !haveCeph())(
  'output downloads from an S3 artifact store',
  () => {
    let fixture: WebFixture;
    let s3: TestS3;
    let admin: S3Client;
    let dir: string;
    let bucket: string;

    /** A store as a fresh server would have it (an empty local cache). */
    async function freshStore(): Promise<S3ArtifactStore> {
      const { client } = await createS3Client({
        endpoint: s3.endpoint,
        region: s3.region,
        credentials: {
          accessKeyId: s3.accessKeyId,
          secretAccessKey: s3.secretAccessKey,
        },
      });
      return new S3ArtifactStore({
        client,
        bucket,
        prefix: 'kiln',
        cacheDir: mkdtempSync(join(dir, 'cache-')),
      });
    }

    async function seed(content: string) {
      const store = await freshStore();
      const file = join(dir, `out-${randomBytes(4).toString('hex')}`);
      writeFileSync(file, content);
      const stored = await store.put(file);
      const execution = await fixture.seedExecution({
        id: `e-s3-${randomBytes(4).toString('hex')}`,
        outputs: [
          {
            path: 'models/model.bin',
            size: stored.size,
            sha256: stored.sha256,
            tags: [],
            datum: 'datum://d1',
          },
        ],
      });
      fixture.deps.artifacts = await freshStore();
      return { execution, stored, store };
    }

    beforeAll(async () => {
      s3 = await startTestS3();
      bucket = await s3.createBucket();
      admin = s3.client();
      dir = mkdtempSync(join(tmpdir(), 'kiln-s3-web-'));
      fixture = await startWebFixture();
    }, 300_000);

    afterAll(async () => {
      admin?.destroy();
      await fixture?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('redirects to a presigned GET that serves the bytes and the file name', async () => {
      const content = `weights ${randomBytes(16).toString('hex')}`;
      const { execution } = await seed(content);

      const answer = await fixture.request(
        `/api/executions/${execution.id}/outputs/models/model.bin`,
        { token: fixture.viewerToken },
      );

      expect(answer.status).toBe(302);
      const location = answer.headers.get('location') ?? '';
      expect(location.startsWith(`${s3.endpoint}/${bucket}/kiln/sha256/`)).toBe(
        true,
      );
      expect(location).toContain('X-Amz-Expires=900');
      const object = await fetch(location);
      expect(object.status).toBe(200);
      expect(object.headers.get('content-disposition')).toMatch(
        /^attachment; filename="model.bin"/,
      );
      expect(await object.text()).toBe(content);
      const anonymous = await fixture.request(
        `/api/executions/${execution.id}/outputs/models/model.bin`,
      );
      expect(anonymous.status).toBe(401);
      await anonymous.body?.cancel();
    });

    it('streams through kiln with KILN_ARTIFACTS_DOWNLOAD=proxy, and cuts a corrupt object off', async () => {
      fixture.deps.settings.artifactsDownload = 'proxy';
      try {
        const content = `metrics ${randomBytes(16).toString('hex')}`;
        const { execution, stored, store } = await seed(content);
        const path = `/api/executions/${execution.id}/outputs/models/model.bin`;

        const whole = await fixture.request(path, {
          token: fixture.viewerToken,
        });
        expect(whole.status).toBe(200);
        expect(await whole.text()).toBe(content);

        await admin.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: store.keyOf(stored.sha256),
            Body: content.toUpperCase(),
            Metadata: { sha256: stored.sha256 },
          }),
        );
        fixture.deps.artifacts = await freshStore();
        // kiln can't un-send headers, but the body never ends cleanly: the
        // client sees a broken transfer, never a whole corrupted file.
        const outcome = await fixture
          .request(path, { token: fixture.viewerToken })
          .then((response) => response.text())
          .then(
            () => 'complete',
            () => 'broken',
          );
        expect(outcome).toBe('broken');
      } finally {
        fixture.deps.settings.artifactsDownload = 'presigned';
      }
    });
  },
);
