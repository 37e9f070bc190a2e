/**
 * A real `kiln worker` child process for the load benchmarks (L4, L6):
 * bin/kiln.js (dist/ when built, else the sources through tsx) with its own
 * id and data dir, as on its own host. Resolves once it logged "worker
 * started"; keeps only the tail of what it printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const KILN_BIN = fileURLToPath(new URL('../bin/kiln.js', import.meta.url));

export interface KilnWorker {
  id: string;
  child: ChildProcess;
  pid: number;
  /** The last 8 KB it printed. */
  tail(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export async function spawnKilnWorker(options: {
  id: string;
  redisUrl: string;
  dataRoot: string;
  runtime: 'local' | 'docker' | 'null';
  concurrency: number;
  env?: Record<string, string>;
}): Promise<KilnWorker> {
  const child = spawn(process.execPath, [KILN_BIN, 'worker'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: options.redisUrl,
      KILN_DATA_DIR: join(options.dataRoot, options.id),
      KILN_RUNTIME: options.runtime,
      KILN_WORKER_ID: options.id,
      KILN_CONCURRENCY: String(options.concurrency),
      KILN_LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let started = false;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8192);
    if (!started && output.includes('worker started')) started = true;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + 90_000;
  while (!started) {
    if (child.exitCode !== null)
      throw new Error(`worker ${options.id} exited:\n${output}`);
    if (Date.now() > deadline)
      throw new Error(`worker ${options.id} did not start:\n${output}`);
    await sleep(100);
  }
  return {
    id: options.id,
    child,
    pid: child.pid ?? 0,
    tail: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** VmRSS and VmHWM of a process, in bytes. */
export function procMemory(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/** User + system CPU seconds of a process (clock ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]
    ?.split(' ');
  return (Number(fields?.[11] ?? 0) + Number(fields?.[12] ?? 0)) / 100;
}
