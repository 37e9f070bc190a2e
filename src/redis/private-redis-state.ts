/**
 * `<dataDir>/redis/redis.json`: how other kiln processes on the machine
 * find the private redis-server (`{ pid, port?, socket? }`).
 */
import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RedisOptions } from 'ioredis';

export interface PrivateRedisState {
  pid: number;
  port?: number;
  socket?: string;
}

export function statePath(dir: string): string {
  return join(dir, 'redis.json');
}

export function readState(dir: string): PrivateRedisState | null {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(statePath(dir), 'utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { pid, port, socket } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(pid) || (pid as number) <= 0) return null;
  const state: PrivateRedisState = { pid: pid as number };
  if (Number.isSafeInteger(port) && (port as number) > 0) {
    state.port = port as number;
  }
  // Only a socket inside the redis dir: the file is not trusted blindly.
  if (typeof socket === 'string' && socket === join(dir, 'redis.sock')) {
    state.socket = socket;
  }
  return state.port === undefined && state.socket === undefined ? null : state;
}

export async function writeState(
  dir: string,
  state: PrivateRedisState,
): Promise<void> {
  const temporary = `${statePath(dir)}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  await rename(temporary, statePath(dir));
}

export async function removeStateOf(dir: string, pid: number): Promise<void> {
  if (readState(dir)?.pid === pid) await rm(statePath(dir), { force: true });
}

/** Where to connect, as ioredis options and as a URL-ish string. */
export function targetOf(state: PrivateRedisState): {
  url: string;
  connection: RedisOptions;
} {
  if (state.socket) {
    return { url: state.socket, connection: { path: state.socket } };
  }
  return {
    url: `redis://127.0.0.1:${state.port}`,
    connection: { host: '127.0.0.1', port: state.port },
  };
}

/** Alive and (where /proc tells) a redis-server: pids get reused. */
export function isRedisProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return command.includes('redis-server');
  } catch {
    return process.platform !== 'linux';
  }
}
