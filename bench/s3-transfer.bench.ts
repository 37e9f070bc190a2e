/**
 * M10 S3 transfer (docs benchmarks.md §9): kiln's transfers to and from a
 * real radosgw (scripts/start-ceph-s3.sh, memstore, loopback) against the
 * bare AWS SDK moving the same bytes with the same client settings:
 *
 * - download (artifact): `S3ArtifactStore.copyTo` with an empty local cache
 *   (a `datum://` input on a worker that never saw the blob: GET, SHA-256
 *   check, cache, read-only link) ÷ `GetObject` streamed to a file;
 * - download (input): `InputFetcher` on `s3://bucket/key` with an empty
 *   cache (HEAD, GET pinned to the ETag, SHA-256, cache, link) ÷ the same
 *   `GetObject`;
 * - upload: `S3ArtifactStore.put` (copy into the cache while hashing, HEAD,
 *   multipart upload of that copy, HEAD check) ÷ lib-storage `Upload` of
 *   the file with the same part size and queue size.
 *
 * For the artifact download and the upload it also prints the median CPU
 * time of this process per call on each side (kiln's own cost, blurred
 * less than wall time by a busy machine).
 *
 * Every upload sample writes different bytes (a counter in the first 16
 * bytes, written on both sides), so neither side deduplicates. Target: time
 * ratio ≤ 1.1 (≥ 0.9 of raw throughput).
 *
 *   npm run bench:s3          (BENCH_S3_MB=32 BENCH_REPS=9 by default)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createS3Client } from '../src/artifacts/create-s3-client.js';
import { DataStoreAccess } from '../src/artifacts/data-store-access.js';
import { InputFetcher } from '../src/artifacts/input-fetcher.js';
import { S3ArtifactStore } from '../src/artifacts/s3-artifact-store.js';
import { runBenchmark } from './harness.js';

const MB = Number(process.env.BENCH_S3_MB ?? 32);
const REPETITIONS = Math.max(5, Number(process.env.BENCH_REPS ?? 9));
const PART_SIZE = 16 * 1024 * 1024;
const QUEUE_SIZE = 4;
const ROOT = resolve(import.meta.dirname, '..');

/**
 * This process's CPU time per call of `run` (user + system, ms): what kiln
 * itself spends, which a loaded machine's contention blurs less than wall
 * time. radosgw's own CPU is not in it.
 */
function withCpu(run: () => Promise<void>): {
  run: () => Promise<void>;
  samples: number[];
} {
  const samples: number[] = [];
  return {
    samples,
    run: async () => {
      const before = process.cpuUsage();
      await run();
      const used = process.cpuUsage(before);
      samples.push((used.user + used.system) / 1000);
    },
  };
}

function printCpu(
  name: string,
  subject: { samples: number[] },
  baseline: { samples: number[] },
): void {
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const [kiln, sdk] = [median(subject.samples), median(baseline.samples)];
  console.log(
    `M10 ${name} CPU of this process: kiln ${Math.round(kiln)} ms, bare SDK ${Math.round(sdk)} ms, ratio ${(kiln / sdk).toFixed(2)} (medians, warm-up included)`,
  );
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-s3-'));
  const cephDir = join(work, 'ceph');
  let failed = false;
  try {
    const env = startCeph(cephDir);
    const keys = {
      accessKeyId: env.AWS_ACCESS_KEY_ID as string,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
    };
    const made = await createS3Client({
      endpoint: env.AWS_ENDPOINT_URL_S3,
      region: env.AWS_REGION,
      credentials: keys,
    });
    const client = made.client;
    const bucket = `bench-${randomBytes(4).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const file = join(work, 'payload.bin');
    writeFileSync(file, randomBytes(MB * 1024 * 1024));
    let counter = 0;
    /** Both sides change the first bytes, so every upload is new content. */
    const freshContent = () => {
      counter += 1;
      const fd = openSync(file, 'r+');
      writeSync(
        fd,
        Buffer.from(counter.toString(16).padStart(16, '0')),
        0,
        16,
        0,
      );
      closeSync(fd);
    };
    const store = (cacheDir: string) =>
      new S3ArtifactStore({
        client,
        bucket,
        prefix: 'kiln',
        cacheDir,
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
      });

    // One blob for the download measures, stored through kiln.
    const stored = await store(join(work, 'seed-cache')).put(file);
    const blobKey = store(join(work, 'unused')).keyOf(stored.sha256);
    const rawDownload = async () => {
      const object = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: blobKey }),
      );
      const target = join(work, 'raw-download.bin');
      await pipeline(object.Body as Readable, createWriteStream(target));
      rmSync(target);
    };
    const details = {
      megabytes: MB,
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      server: 'ceph radosgw 16.2, memstore, loopback',
    };

    const rawGet = withCpu(rawDownload);
    const kilnCopy = withCpu(async () => {
      const cache = mkdtempSync(join(work, 'cache-'));
      const dest = join(work, 'artifact-download.bin');
      await store(cache).copyTo(stored.sha256, dest);
      rmSync(dest);
      rmSync(cache, { recursive: true });
    });
    const artifact = await runBenchmark({
      id: 'M10',
      name: 's3-download-artifact',
      repetitions: REPETITIONS,
      targetRatio: 1.1,
      details,
      baseline: rawGet.run,
      subject: kilnCopy.run,
    });
    printCpu('s3-download-artifact', kilnCopy, rawGet);

    const fetcher = (cacheDir: string) =>
      new InputFetcher({
        cacheDir,
        access: new DataStoreAccess({
          createClient: async () => made,
        }),
      });
    const input = await runBenchmark({
      id: 'M10',
      name: 's3-download-input',
      repetitions: REPETITIONS,
      targetRatio: 1.1,
      details,
      baseline: rawDownload,
      subject: async () => {
        const cache = mkdtempSync(join(work, 'cache-'));
        const dest = mkdtempSync(join(work, 'input-'));
        const [fetched] = await fetcher(cache).fetch({
          uri: `s3://${bucket}/${blobKey}`,
          destDir: dest,
          trusted: true,
          secrets: async () => ({
            AWS_ACCESS_KEY_ID: keys.accessKeyId,
            AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
          }),
        });
        if (fetched?.sha256 !== stored.sha256) throw new Error('wrong bytes');
        rmSync(dest, { recursive: true });
        rmSync(cache, { recursive: true });
      },
    });

    const rawUpload = withCpu(async () => {
      freshContent();
      await new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: `raw/${counter}`,
          Body: createReadStream(file),
        },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
      }).done();
    });
    const kilnUpload = withCpu(async () => {
      freshContent();
      const cache = mkdtempSync(join(work, 'cache-'));
      await store(cache).put(file);
      rmSync(cache, { recursive: true });
    });
    const upload = await runBenchmark({
      id: 'M10',
      name: 's3-upload',
      repetitions: REPETITIONS,
      targetRatio: 1.1,
      details,
      baseline: rawUpload.run,
      subject: kilnUpload.run,
    });
    printCpu('s3-upload', kilnUpload, rawUpload);
    failed = ![artifact, input, upload].every((result) => result.pass);
    client.destroy();
  } finally {
    execFileSync('bash', [join(ROOT, 'scripts/stop-ceph-s3.sh')], {
      env: { ...process.env, CEPH_DIR: cephDir },
      stdio: 'ignore',
    });
    rmSync(work, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

function startCeph(dir: string): Record<string, string> {
  execFileSync('bash', [join(ROOT, 'scripts/start-ceph-s3.sh')], {
    env: {
      ...process.env,
      CEPH_DIR: dir,
      // Room for every sample's upload (memstore keeps objects in RAM).
      MEMSTORE_BYTES: String(
        2 * 1024 ** 3 + MB * 1024 * 1024 * (REPETITIONS + 3) * 2,
      ),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return Object.fromEntries(
    readFileSync(join(dir, 's3.env'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [
        line.slice(0, line.indexOf('=')),
        line.slice(line.indexOf('=') + 1),
      ]),
  );
}

await main();
