/**
 * A real S3 server for tests: Ceph's radosgw (scripts/start-ceph-s3.sh),
 * started once per test run by the first file that asks and shared by all
 * (each file makes its own buckets), stopped by the global teardown
 * (ceph-global-setup.ts). Files that must stop the server mid-request get a
 * private radosgw on the same cluster (`startPrivateRadosgw`), so no other
 * file sees the outage.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { freePort } from './redis-server.js';
import { hasCommand, inCi, requireService } from './services.js';

// The SDK's notice about its future Node 22 requirement is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const START = resolve(import.meta.dirname, '../../scripts/start-ceph-s3.sh');

export interface TestS3 {
  /** The shared radosgw, `http://127.0.0.1:PORT`. */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The cluster's ceph.conf (for a private radosgw). */
  conf: string;
  /** AWS_* variables for child processes (kiln workers). */
  env: Record<string, string>;
  /** A client with the test user's keys (or `keys`), at `endpoint` unless given. */
  client(
    endpoint?: string,
    keys?: { accessKeyId: string; secretAccessKey: string },
  ): S3Client;
  /** A new, empty bucket with a unique name (owned by `client`'s user, or `as`). */
  createBucket(options?: {
    versioned?: boolean;
    as?: S3Client;
  }): Promise<string>;
  /** Another S3 user of the same server, with its own keys. */
  createUser(): Promise<{ accessKeyId: string; secretAccessKey: string }>;
  /** Another radosgw on the same cluster that the caller may kill. */
  startPrivateRadosgw(): Promise<PrivateRadosgw>;
}

export interface PrivateRadosgw {
  endpoint: string;
  /**
   * SIGKILL: the server vanishes mid-request. Its watch on the cluster
   * lingers for the OSD's watch timeout (10 s here), which delays other
   * files' metadata changes (new users, buckets) by as much.
   */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Whether S3 tests can run (CI: always try, and fail when it can't). */
export function haveCeph(): boolean {
  return requireService(
    'Ceph radosgw',
    inCi || hasCommand('radosgw'),
    "run scripts/start-ceph-s3.sh once (it installs Debian's ceph packages), or set KILN_TEST_CEPH_DIR to a running cluster",
  );
}

let shared: Promise<TestS3> | undefined;

/** The run's shared radosgw, started by the first caller. */
export function startTestS3(): Promise<TestS3> {
  shared ??= start();
  return shared;
}

async function start(): Promise<TestS3> {
  const dir = inject('kilnCephDir');
  const env = await ensureCluster(dir, inject('kilnCephExternal'));
  const endpoint = env.AWS_ENDPOINT_URL_S3 as string;
  const base = {
    endpoint: endpoint,
    region: env.AWS_REGION as string,
    accessKeyId: env.AWS_ACCESS_KEY_ID as string,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
    conf: env.CEPH_CONF as string,
  };
  const client = (
    at = endpoint,
    keys = {
      accessKeyId: base.accessKeyId,
      secretAccessKey: base.secretAccessKey,
    },
  ) =>
    new S3Client({
      endpoint: at,
      region: base.region,
      forcePathStyle: true,
      credentials: keys,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const admin = client();
  return {
    ...base,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: base.region,
      AWS_ACCESS_KEY_ID: base.accessKeyId,
      AWS_SECRET_ACCESS_KEY: base.secretAccessKey,
    },
    client,
    async createBucket(options = {}) {
      const name = `kiln-${randomBytes(6).toString('hex')}`;
      const owner = options.as ?? admin;
      await owner.send(new CreateBucketCommand({ Bucket: name }));
      if (options.versioned) {
        await owner.send(
          new PutBucketVersioningCommand({
            Bucket: name,
            VersioningConfiguration: { Status: 'Enabled' },
          }),
        );
      }
      return name;
    },
    async createUser() {
      const id = `u${randomBytes(6).toString('hex')}`;
      const keys = {
        accessKeyId: `${id}access`,
        secretAccessKey: `${id}-${randomBytes(12).toString('hex')}`,
      };
      const args = [
        '-c',
        base.conf,
        'user',
        'create',
        `--uid=${id}`,
        `--display-name=${id}`,
        `--access-key=${keys.accessKeyId}`,
        `--secret-key=${keys.secretAccessKey}`,
      ];
      const started = Date.now();
      const result = spawnSync('radosgw-admin', args, {
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (result.status !== 0) {
        throw new Error(
          `radosgw-admin user create failed after ${Date.now() - started} ms: status ${result.status}, signal ${result.signal}, error ${String(result.error)}, stderr ${result.stderr}, stdout ${result.stdout?.slice(0, 500)}`,
        );
      }
      return keys;
    },
    startPrivateRadosgw: () => startPrivateRadosgw(base.conf, dir),
  };
}

/**
 * Starts the cluster unless another test file did: the first to create
 * `<dir>.lock` runs the start script; the others wait for `s3.env`, which
 * the script writes last.
 */
async function ensureCluster(
  dir: string,
  external: boolean,
): Promise<Record<string, string>> {
  const envFile = join(dir, 's3.env');
  if (!external) {
    let owner = false;
    try {
      mkdirSync(`${dir}.lock`);
      owner = true;
    } catch {
      // another file is starting it
    }
    if (owner) {
      const result = spawnSync('bash', [START], {
        env: { ...process.env, CEPH_DIR: dir },
        encoding: 'utf8',
        timeout: 300_000,
      });
      if (result.status !== 0) {
        const output = `${result.stdout}\n${result.stderr}`.slice(-4000);
        writeFileSync(`${dir}.log`, output);
        throw new Error(`scripts/start-ceph-s3.sh failed:\n${output}`);
      }
    }
  }
  const deadline = Date.now() + 300_000;
  while (!existsSync(envFile)) {
    if (existsSync(`${dir}.log`)) {
      throw new Error(
        `the shared radosgw did not start:\n${readFileSync(`${dir}.log`, 'utf8')}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for the shared radosgw in ${dir}`);
    }
    await sleep(100);
  }
  return Object.fromEntries(
    readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [
        line.slice(0, line.indexOf('=')),
        line.slice(line.indexOf('=') + 1),
      ]),
  );
}

async function startPrivateRadosgw(
  conf: string,
  dir: string,
): Promise<PrivateRadosgw> {
  const port = await freePort();
  const id = `p${port}`;
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  async function startOne(): Promise<void> {
    const started = spawn(
      'radosgw',
      [
        '-c',
        conf,
        '-n',
        `client.rgw.${id}`,
        '-f',
        `--rgw_frontends=beast endpoint=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    child = started;
    // The stop script reaps it even if this test process dies first.
    writeFileSync(join(dir, 'run', `rgw-${id}.pid`), String(started.pid));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (started.exitCode !== null) {
        throw new Error(`radosgw ${id} exited with ${started.exitCode}`);
      }
      const ok = await fetch(`${endpoint}/`).then(
        () => true,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`radosgw ${id} did not answer`);
      await sleep(50);
    }
  }

  async function kill(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) {
      return;
    }
    const exited = new Promise((done) => running.once('exit', done));
    running.kill('SIGKILL');
    await exited;
  }

  await startOne();
  return {
    endpoint,
    kill,
    start: startOne,
    async close() {
      // SIGTERM: a radosgw that exits cleanly drops its watch on the
      // cluster's control objects; a killed one leaves it to time out, and
      // other files' new users and buckets wait for that.
      const running = child;
      child = undefined;
      if (running && running.exitCode === null && running.signalCode === null) {
        const exited = new Promise((done) => running.once('exit', done));
        running.kill('SIGTERM');
        const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(join(dir, 'run', `rgw-${id}.pid`), { force: true });
    },
  };
}
