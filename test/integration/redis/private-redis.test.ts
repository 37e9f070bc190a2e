import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRedis } from '../../../src/redis/check-redis.js';
import { connectRedis } from '../../../src/redis/connect-redis.js';
import {
  ensurePrivateRedis,
  type PrivateRedis,
} from '../../../src/redis/private-redis.js';
import { freePort } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

const execFileAsync = promisify(execFile);

describe.skipIf(!haveRedis())('ensurePrivateRedis', () => {
  const dirs: string[] = [];
  const servers: PrivateRedis[] = [];

  function dataDir(name = 'kiln-data-'): string {
    const dir = mkdtempSync(join(tmpdir(), name));
    dirs.push(dir);
    return dir;
  }

  async function ensure(dir: string): Promise<PrivateRedis> {
    const server = await ensurePrivateRedis({ dataDir: dir });
    servers.push(server);
    return server;
  }

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
    for (const dir of dirs.splice(0)) {
      stopLeftover(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts a server with kiln settings and reuses it', async () => {
    const dir = dataDir();

    const first = await ensure(dir);
    const second = await ensure(dir);

    expect(first.started).toBe(true);
    expect(second.started).toBe(false);
    expect(second.url).toBe(first.url);
    const state = JSON.parse(
      readFileSync(join(dir, 'redis', 'redis.json'), 'utf8'),
    );
    expect(state.socket).toBe(first.url);
    expect(statSync(first.url).mode & 0o777).toBe(0o700);
    const redis = connectRedis(first.url, { role: 'producer' });
    try {
      expect(await checkRedis(redis)).toEqual({ warnings: [] });
      expect(await redis.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    } finally {
      redis.disconnect();
    }
  });

  it('stops only the server this call started', async () => {
    const dir = dataDir();
    const first = await ensure(dir);
    const reused = await ensure(dir);

    await reused.stop();
    const stillThere = await ensure(dir);
    await first.stop();
    const restarted = await ensure(dir);

    expect(stillThere.started).toBe(false);
    expect(restarted.started).toBe(true);
  });

  it('keeps data across a stop and a new start', async () => {
    const dir = dataDir();
    const first = await ensure(dir);
    const writer = connectRedis(first.url, { role: 'worker' });
    await writer.set('kiln:test', 'kept');
    writer.disconnect();
    await first.stop();

    const second = await ensure(dir);
    const reader = connectRedis(second.url, { role: 'worker' });
    const value = await reader.get('kiln:test');
    reader.disconnect();

    expect(second.started).toBe(true);
    expect(value).toBe('kept');
  });

  it('replaces a stale redis.json (dead pid and port)', async () => {
    const dir = dataDir();
    await mkdir(join(dir, 'redis'), { recursive: true });
    const deadPort = await freePort();
    writeFileSync(
      join(dir, 'redis', 'redis.json'),
      JSON.stringify({ pid: 999_999_999, port: deadPort }),
    );

    const server = await ensure(dir);

    expect(server.started).toBe(true);
    const state = JSON.parse(
      readFileSync(join(dir, 'redis', 'redis.json'), 'utf8'),
    );
    expect(state.pid).not.toBe(999_999_999);
  });

  it('starts one server when two processes ask at once', async () => {
    const dir = dataDir();

    const both = await Promise.all([ensure(dir), ensure(dir)]);

    expect(both.map((server) => server.started).sort()).toEqual([false, true]);
    expect(both[0]?.url).toBe(both[1]?.url);
  });

  it('starts one server when separate processes ask at once', async () => {
    const dir = dataDir();
    const child = fileURLToPath(
      new URL('./ensure-private-redis-child.ts', import.meta.url),
    );

    const outputs = await Promise.all(
      [1, 2, 3].map(() =>
        execFileAsync(process.execPath, ['--import', 'tsx', child, dir]),
      ),
    );
    // The server outlives the process that started it: afterEach stops it.

    const results = outputs.map((output) => JSON.parse(output.stdout));
    expect(results.filter((result) => result.started)).toHaveLength(1);
    expect(new Set(results.map((result) => result.url)).size).toBe(1);
  });

  it('falls back to TCP on 127.0.0.1 when the socket path is too long', async () => {
    const dir = join(dataDir(), 'd'.repeat(60), 'e'.repeat(40));

    const server = await ensure(dir);

    expect(server.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const redis = connectRedis(server.url, { role: 'producer' });
    try {
      expect((await checkRedis(redis)).warnings).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('says how to install redis-server when it is missing', async () => {
    const dir = dataDir();

    const attempt = ensurePrivateRedis({
      dataDir: dir,
      env: { PATH: join(dir, 'empty-bin') },
    });

    await expect(attempt).rejects.toMatchObject({
      name: 'PrivateRedisError',
      code: 'REDIS_NOT_INSTALLED',
      message: expect.stringContaining('apt-get install -y redis-server'),
    });
  });
});

/** A server a failed test (or a child process) left running in `dir`. */
function stopLeftover(dir: string): void {
  try {
    const state = JSON.parse(
      readFileSync(join(dir, 'redis', 'redis.json'), 'utf8'),
    ) as { pid?: number };
    if (state.pid) process.kill(state.pid, 'SIGTERM');
  } catch {
    // No state file or no such process: nothing left to stop.
  }
}
