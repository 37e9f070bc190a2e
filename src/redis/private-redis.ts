/**
 * The private redis-server kiln starts when REDIS_URL is not set: one per
 * data dir, shared by every kiln process on the machine through
 * `<dataDir>/redis/redis.json`. It listens on a unix socket (mode 700, no
 * TCP) so other users can't reach it and ports never clash; when the socket
 * path is too long for the OS it falls back to 127.0.0.1 and a free port.
 * AOF on and `noeviction`, as kiln requires.
 *
 * Contract: `ensurePrivateRedis` is safe to call from several processes at
 * once (a lock file created with O_EXCL lets one start the server while the
 * others wait for it). Only the call that started the server can stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { pingRedis } from './ping-redis.js';
import { PrivateRedisError } from './private-redis-error.js';
import {
  isRedisProcess,
  readState,
  removeStateOf,
  targetOf,
  writeState,
  type PrivateRedisState,
} from './private-redis-state.js';
import { acquireStartLock } from './start-lock.js';

export { connectRedis } from './connect-redis.js';

export interface EnsurePrivateRedisOptions {
  dataDir: string;
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** Environment of redis-server; its PATH finds the binary. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for a server to answer. @defaultValue 15000 */
  startTimeoutMs?: number;
}

export interface PrivateRedis {
  /** The socket path (ioredis takes it as a URL) or `redis://127.0.0.1:N`. */
  url: string;
  /** The same target as ioredis options (e.g. for BullMQ). */
  connection: RedisOptions;
  /** Whether this call started the server. */
  started: boolean;
  /** Stops the server if this call started it; otherwise does nothing. */
  stop(): Promise<void>;
}

/** Unix socket paths are limited to ~104–108 bytes by the OS. */
const MAX_SOCKET_PATH = 100;

export async function ensurePrivateRedis(
  options: EnsurePrivateRedisOptions,
): Promise<PrivateRedis> {
  const dir = join(resolve(options.dataDir), 'redis');
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const running = await findRunning(dir, timeoutMs);
  if (running) return reuse(running, options);
  const release = await acquireStartLock(dir, {
    timeoutMs: timeoutMs * 2,
    // While another process starts the server, its answer ends the wait.
    poll: async () => (await findRunning(dir, 0)) !== null,
  });
  try {
    const ready = await findRunning(dir, timeoutMs);
    if (ready) return reuse(ready, options);
    const stale = readState(dir);
    if (stale && isRedisProcess(stale.pid)) {
      // Two servers on one AOF dir would corrupt it: never start a second.
      throw new PrivateRedisError(
        'UNRESPONSIVE',
        `the private redis-server (pid ${stale.pid}, ${dir}) is running but does not answer: stop it (kill ${stale.pid}) and try again`,
      );
    }
    return await startServer(dir, options, timeoutMs);
  } finally {
    await release();
  }
}

async function findRunning(
  dir: string,
  timeoutMs: number,
): Promise<PrivateRedisState | null> {
  const state = readState(dir);
  if (!state) return null;
  const { connection } = targetOf(state);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await pingRedis(connection);
    if (result === 'ok') return state;
    if (result === 'down' || Date.now() > deadline) return null;
    await sleep(100);
  }
}

function reuse(
  state: PrivateRedisState,
  options: EnsurePrivateRedisOptions,
): PrivateRedis {
  const target = targetOf(state);
  options.logger?.info(
    { pid: state.pid, url: target.url },
    'using the running private redis-server',
  );
  return { ...target, started: false, stop: async () => undefined };
}

async function startServer(
  dir: string,
  options: EnsurePrivateRedisOptions,
  timeoutMs: number,
): Promise<PrivateRedis> {
  const socketPath = join(dir, 'redis.sock');
  const useSocket = Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH;
  const port = useSocket ? 0 : await findFreePort();
  const configPath = join(dir, 'redis.conf');
  await writeFile(
    configPath,
    serverConfig({ dir, socketPath, useSocket, port }),
    {
      mode: 0o600,
    },
  );
  await rm(socketPath, { force: true });

  const child = spawn('redis-server', [configPath], {
    cwd: dir,
    detached: true,
    stdio: 'ignore',
    env: options.env ?? process.env,
  });
  await waitForSpawn(child);
  // Detached and unreferenced: later kiln commands keep using it.
  child.unref();
  const pid = child.pid ?? 0;
  const state: PrivateRedisState = useSocket
    ? { pid, socket: socketPath }
    : { pid, port };
  await writeState(dir, state);

  const deadline = Date.now() + timeoutMs;
  const target = targetOf(state);
  while ((await pingRedis(target.connection)) !== 'ok') {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await removeStateOf(dir, pid);
      throw new PrivateRedisError(
        'START_FAILED',
        `redis-server did not start (see ${join(dir, 'redis.log')}): ${lastLogLine(dir)}`,
      );
    }
    await sleep(50);
  }
  options.logger?.info(
    { pid, url: target.url },
    'started a private redis-server',
  );

  let stopped = false;
  return {
    ...target,
    started: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(child);
      await removeStateOf(dir, pid);
    },
  };
}

function serverConfig(options: {
  dir: string;
  socketPath: string;
  useSocket: boolean;
  port: number;
}): string {
  const lines = [
    'bind 127.0.0.1',
    'protected-mode yes',
    `port ${options.port}`,
    ...(options.useSocket
      ? [`unixsocket ${quote(options.socketPath)}`, 'unixsocketperm 700']
      : []),
    `dir ${quote(options.dir)}`,
    `logfile ${quote(join(options.dir, 'redis.log'))}`,
    'daemonize no',
    'appendonly yes',
    'appendfsync everysec',
    'maxmemory-policy noeviction',
    // AOF is the persistence; RDB snapshots would only add fork pauses.
    'save ""',
  ];
  return `${lines.join('\n')}\n`;
}

/** A double-quoted redis.conf string (paths may hold spaces or quotes). */
function quote(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r');
  return `"${escaped}"`;
}

async function waitForSpawn(child: ChildProcess): Promise<void> {
  try {
    await once(child, 'spawn');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PrivateRedisError(
        'REDIS_NOT_INSTALLED',
        'redis-server is not installed: apt-get install -y redis-server, or set REDIS_URL to an existing Redis',
        { cause: error },
      );
    }
    throw new PrivateRedisError(
      'START_FAILED',
      `could not run redis-server: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  // SIGTERM: Redis flushes the AOF and exits; SIGKILL only if it hangs.
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function lastLogLine(dir: string): string {
  const path = join(dir, 'redis.log');
  if (!existsSync(path)) return 'no log written';
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return lines.at(-1) ?? 'empty log';
}

async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((done) => server.close(done));
  return port;
}
