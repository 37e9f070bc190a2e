/**
 * Two `kiln worker` processes with separate data dirs (as on two machines,
 * no shared file system) and `KILN_ARTIFACTS_URL=s3://…` on a real
 * radosgw: one pipeline's steps land on both (their execution records name
 * the worker), the input comes from a data lake bucket with the
 * repository's own keys, and the model passes from one worker to the other
 * through S3 only: the consumer on the other worker records the bucket
 * object (ETag and version) it downloaded. Neither key ends up in a record
 * or a log.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore } from '../../../src/secrets/secret-store.js';
import { haveCeph, startTestS3, type TestS3 } from '../../helpers/ceph-s3.js';
import { haveRedis } from '../../helpers/services.js';
import {
  REPOSITORY,
  startServiceFixture,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

const sha = (bytes: Buffer | string) =>
  createHash('sha256').update(bytes).digest('hex');

/** Waits (with a deadline) until both consumers run: one per worker. */
function barrier(hostDir: string, name: string): string[] {
  const mine = join(hostDir, `started-${name}`);
  return [
    `echo "$VH_INPUTS_DIR" > '${mine}'`,
    `i=0; while [ ! -e '${join(hostDir, 'started-b')}' ] || [ ! -e '${join(hostDir, 'started-c')}' ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 7; sleep 0.05; done`,
  ];
}

function config(options: { hostDir: string; input: string }): string {
  const consumer = (name: string) => [
    `- step:`,
    `    name: use-${name}`,
    `    image: kiln-test/busybox:1`,
    `    command:`,
    ...barrier(options.hostDir, name).map(
      (line) => `      - ${JSON.stringify(line)}`,
    ),
    `      - ${JSON.stringify(`sha256sum "$VH_INPUTS_DIR/model/model.bin" | cut -d' ' -f1 > "$VH_OUTPUTS_DIR/seen-${name}.txt"`)}`,
    `    inputs:`,
    `      - name: model`,
  ];
  return [
    `- step:`,
    `    name: prepare`,
    `    image: kiln-test/busybox:1`,
    `    command:`,
    `      - ${JSON.stringify('cat "$VH_INPUTS_DIR/train/train.csv" "$VH_INPUTS_DIR/train/train.csv" > "$VH_OUTPUTS_DIR/model.bin"')}`,
    `    inputs:`,
    `      - name: train`,
    `        default: ${options.input}`,
    ...consumer('b'),
    ...consumer('c'),
    `- pipeline:`,
    `    name: shared`,
    `    nodes:`,
    `      - name: prepare`,
    `        type: execution`,
    `        step: prepare`,
    `      - name: b`,
    `        type: execution`,
    `        step: use-b`,
    `      - name: c`,
    `        type: execution`,
    `        step: use-c`,
    `    edges:`,
    `      - [prepare.output.model.bin, b.input.model]`,
    `      - [prepare.output.model.bin, c.input.model]`,
    '',
  ].join('\n');
}

describe.skipIf(!haveRedis() || !haveCeph())(
  'two workers sharing artifacts through S3 only',
  () => {
    let s3: TestS3;
    let fixture: ServiceFixture;
    let lake: { accessKeyId: string; secretAccessKey: string };
    let lakeClient: S3Client;
    let admin: S3Client;

    beforeAll(async () => {
      s3 = await startTestS3();
      lake = await s3.createUser();
      lakeClient = s3.client(undefined, lake);
      admin = s3.client();
      fixture = await startServiceFixture();
    }, 300_000);

    afterAll(async () => {
      lakeClient?.destroy();
      admin?.destroy();
      await fixture?.close();
    }, 60_000);

    it('runs one pipeline across both, with the input version recorded and no key anywhere', async () => {
      const artifacts = await s3.createBucket({ versioned: true });
      const data = await s3.createBucket({ versioned: true, as: lakeClient });
      const train = `sepal,petal\n${randomBytes(16).toString('hex')}\n`;
      const written = await lakeClient.send(
        new PutObjectCommand({
          Bucket: data,
          Key: 'iris/train.csv',
          Body: train,
        }),
      );
      // Only the repository's secrets can read the lake; the workers' own
      // keys (the artifact store's) can't.
      const secrets = createSecretStore(fixture.redisClient, fixture.keys);
      await secrets.set(REPOSITORY, 'AWS_ACCESS_KEY_ID', lake.accessKeyId);
      await secrets.set(
        REPOSITORY,
        'AWS_SECRET_ACCESS_KEY',
        lake.secretAccessKey,
      );
      const env = {
        ...s3.env,
        KILN_ARTIFACTS_URL: `s3://${artifacts}/kiln`,
      };
      const workers = [];
      for (const id of ['s3-w1', 's3-w2']) {
        workers.push(
          await fixture.spawnWorker({
            id,
            runtime: 'local',
            concurrency: 1,
            env,
          }),
        );
      }

      const created = await fixture.startRun(
        config({
          hostDir: fixture.hostDir,
          input: `s3://${data}/iris/train.csv`,
        }),
        'shared',
      );
      const run = await waitForRun(
        fixture,
        created.id,
        (state) => !['created', 'queued', 'running'].includes(state.status),
        180_000,
      );

      expect(run.status, await fixture.describe(run.id)).toBe('complete');
      const executions = await fixture.executionsOf(run);
      const byNode = new Map(executions.map((item) => [item.node, item]));
      const prepare = byNode.get('prepare');
      const model = train + train;
      expect(prepare?.inputs).toEqual([
        {
          input: 'train',
          name: 'train.csv',
          uri: `s3://${data}/iris/train.csv`,
          size: train.length,
          sha256: sha(train),
          etag: written.ETag,
          versionId: written.VersionId,
        },
      ]);
      expect(prepare?.outputs.map((file) => [file.path, file.sha256])).toEqual([
        ['model.bin', sha(model)],
      ]);
      // b and c ran at once, one on each worker, each reading its inputs
      // from its own worker's data dir.
      const ranOn = (name: string) => byNode.get(name)?.worker ?? '';
      expect(new Set([ranOn('b'), ranOn('c')])).toEqual(
        new Set(['s3-w1', 's3-w2']),
      );
      for (const name of ['b', 'c']) {
        expect(
          readFileSync(join(fixture.hostDir, `started-${name}`), 'utf8'),
        ).toContain(join(fixture.hostDir, `data-${ranOn(name)}`, 'work'));
      }
      // The model went through the bucket: it is there, content-addressed,
      // and no worker has a local artifact store.
      const head = await admin.send(
        new HeadObjectCommand({
          Bucket: artifacts,
          Key: `kiln/sha256/${sha(model).slice(0, 2)}/${sha(model).slice(2)}`,
        }),
      );
      expect(head.ContentLength).toBe(model.length);
      expect(head.VersionId).toMatch(/\S/);
      for (const id of ['s3-w1', 's3-w2']) {
        expect(
          existsSync(join(fixture.hostDir, `data-${id}`, 'artifacts')),
        ).toBe(false);
      }
      // Each consumer's input is the bucket's object: its ETag and version
      // recorded. The one on the other worker than prepare's downloaded it
      // into its own cache (it had no other way to the bytes).
      for (const name of ['b', 'c']) {
        const consumer = byNode.get(name);
        expect(consumer?.inputs).toEqual([
          {
            input: 'model',
            name: 'model.bin',
            uri: prepare?.outputs[0]?.datum,
            size: model.length,
            sha256: sha(model),
            etag: head.ETag,
            versionId: head.VersionId,
          },
        ]);
        expect(consumer?.outputs[0]?.path).toBe(`seen-${name}.txt`);
      }
      const other = ranOn('b') === prepare?.worker ? 'c' : 'b';
      expect(ranOn(other)).not.toBe(prepare?.worker);
      expect(
        existsSync(
          join(
            fixture.hostDir,
            `data-${ranOn(other)}`,
            'artifacts-cache',
            'sha256',
            sha(model).slice(0, 2),
            sha(model).slice(2),
          ),
        ),
      ).toBe(true);

      // No key in any record, log line or worker log.
      const keys = await fixture.redisClient.keys('*');
      let stored = '';
      for (const key of keys.filter(
        (item) => !item.startsWith('kiln:secrets:'),
      )) {
        const type = await fixture.redisClient.type(key);
        if (type === 'string') stored += await fixture.redisClient.get(key);
        else if (type === 'hash')
          stored += JSON.stringify(await fixture.redisClient.hgetall(key));
        else if (type === 'list')
          stored += JSON.stringify(
            await fixture.redisClient.lrange(key, 0, -1),
          );
        else if (type === 'zset')
          stored += JSON.stringify(
            await fixture.redisClient.zrange(key, 0, -1),
          );
        else if (type === 'stream')
          stored += JSON.stringify(
            await fixture.redisClient.xrange(key, '-', '+'),
          );
      }
      expect(stored).toContain(sha(model));
      for (const secret of [lake.secretAccessKey, s3.secretAccessKey]) {
        expect(stored).not.toContain(secret);
        for (const worker of workers)
          expect(worker.output()).not.toContain(secret);
      }
    }, 300_000);
  },
);
