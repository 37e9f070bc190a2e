/**
 * Starts a private redis-server for one test file: its own loopback port and
 * data dir, AOF on and `noeviction` (what kiln requires), so tests may kill,
 * restart or fill it without touching anyone else's Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SIGTERM, or SIGKILL with `hard`). */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Starts it again on the same port and data dir. */
  restart(): Promise<void>;
  /** Stops the server and removes its data dir. */
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (error) {
      client.disconnect();
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

export interface StartTestRedisOptions {
  /** `requirepass`; the returned `url` carries it. @defaultValue none */
  password?: string;
  /**
   * Its data dir (e.g. on a small file system), kept on close.
   * @defaultValue a new temp dir, removed on close
   */
  dir?: string;
}

export async function startTestRedis(
  options: StartTestRedisOptions = {},
): Promise<TestRedis> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kiln-redis-'));
  const port = await freePort();
  const { password } = options;
  const auth =
    password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  const url = `redis://${auth}127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
        '--save',
        '',
        '--protected-mode',
        'yes',
        ...(password === undefined ? [] : ['--requirepass', password]),
      ],
      { stdio: 'ignore' },
    );
    await waitForPing(url);
  }

  async function stop(options: { hard?: boolean } = {}): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) =>
      running.once('exit', () => resolve()),
    );
    running.kill(options.hard ? 'SIGKILL' : 'SIGTERM');
    // A server busy with an AOF rewrite may take a while; never hang a test.
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    url,
    port,
    dir,
    stop,
    restart: start,
    async close() {
      await stop();
      if (options.dir === undefined)
        rmSync(dir, { recursive: true, force: true });
    },
  };
}
