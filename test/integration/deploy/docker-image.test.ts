/**
 * The Dockerfile builds offline into an image that runs kiln: a Node 20
 * base image made locally (scripts/build-node-base-image.sh, kept between
 * runs), a prepared context carrying node_modules
 * (scripts/prepare-docker-context.sh), `docker build --network none`, then
 * the image's `kiln --version` and `kiln server` answering /healthz and
 * /readyz with a test Redis on the host network.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  startTestRedis,
  type TestRedis,
} from '../../helpers/redis-server.js';
import {
  hasCommand,
  haveDocker,
  haveRedis,
  requireService,
} from '../../helpers/services.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const image = 'kiln-test/kiln:image-test';
const container = `kiln-image-test-${process.pid}`;
const buildTimeoutMs = 20 * 60_000;

const ok =
  haveDocker() &&
  haveRedis() &&
  requireService(
    'debootstrap',
    hasCommand('debootstrap'),
    'apt-get install -y debootstrap',
  );

async function sh(file: string, args: string[] = []): Promise<string> {
  const { stdout } = await run('bash', [join(root, file), ...args], {
    cwd: root,
    timeout: buildTimeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim().split('\n').at(-1) ?? '';
}

async function docker(args: string[], timeout = 60_000): Promise<string> {
  const { stdout } = await run('docker', args, {
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

describe.skipIf(!ok)('the kiln Docker image', () => {
  let context = '';
  let redis: TestRedis;

  beforeAll(async () => {
    const base = await sh('scripts/build-node-base-image.sh');
    context = await sh('scripts/prepare-docker-context.sh');
    await docker(
      [
        'build',
        '--network',
        'none',
        '--build-arg',
        `BASE_IMAGE=${base}`,
        '-t',
        image,
        context,
      ],
      buildTimeoutMs,
    );
    redis = await startTestRedis();
  }, buildTimeoutMs + 60_000);

  afterAll(async () => {
    await docker(['rm', '-f', container]).catch(() => '');
    await docker(['rmi', image]).catch(() => '');
    if (context) rmSync(context, { recursive: true, force: true });
    await redis?.close();
  });

  it('runs kiln --version as a non-root user', async () => {
    const version = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    expect(
      await docker(['run', '--rm', '--network', 'none', image, '--version']),
    ).toBe(version);
    const user = await docker([
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'id',
      image,
      '-u',
    ]);
    expect(user).not.toBe('0');
  });

  it('runs kiln server: /healthz and /readyz answer with Redis reachable', async () => {
    const port = await freePort();
    await docker([
      'run',
      '-d',
      '--name',
      container,
      '--network',
      'host',
      '-e',
      `REDIS_URL=${redis.url}`,
      '-e',
      `KILN_PORT=${port}`,
      '-e',
      'KILN_HOST=127.0.0.1',
      '-e',
      'KILN_METRICS_PUBLIC=true',
      image,
      'server',
    ]);
    const base = `http://127.0.0.1:${port}`;
    let health: Response | undefined;
    for (let i = 0; i < 120 && !health?.ok; i += 1) {
      health = await fetch(`${base}/healthz`).catch(() => undefined);
      if (!health?.ok) await sleep(500);
    }
    expect(
      health?.status,
      await docker(['logs', container]).catch(() => ''),
    ).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { redis: true } });
    const metrics = await fetch(`${base}/metrics`);
    expect(await metrics.text()).toContain('kiln_queue_jobs');
  });
});
