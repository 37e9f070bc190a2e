/**
 * A real `kiln server` child process for the ingress benchmarks (L2, L3):
 * bin/kiln.js (dist/ when built, else the sources through tsx), the HTTP
 * routes and the intake worker in one process, reading local git origins
 * (KILN_ALLOW_LOCAL_REPOSITORIES). Resolves once /healthz answers; keeps
 * the tail of its stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const KILN_BIN = fileURLToPath(new URL('../bin/kiln.js', import.meta.url));

export interface KilnServer {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Its last log line, if any. */
  lastLogLine(): string | undefined;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export async function spawnKilnServer(options: {
  redisUrl: string;
  dataDir: string;
  port: number;
  secret: string;
  env?: Record<string, string>;
}): Promise<KilnServer> {
  const child = spawn(process.execPath, [KILN_BIN, 'server'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: options.redisUrl,
      KILN_DATA_DIR: options.dataDir,
      KILN_PORT: String(options.port),
      KILN_HOST: '127.0.0.1',
      KILN_WEBHOOK_SECRET: options.secret,
      KILN_ALLOW_LOCAL_REPOSITORIES: 'true',
      KILN_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const ready = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`kiln server exited ${child.exitCode}:\n${stderr}`);
    const answer = await fetch(
      `http://127.0.0.1:${options.port}/healthz`,
    ).catch(() => null);
    if (answer?.ok) break;
    if (Date.now() > ready)
      throw new Error('kiln server did not answer /healthz');
    await sleep(200);
  }
  return {
    child,
    pid: child.pid ?? 0,
    port: options.port,
    lastLogLine: () => stderr.trim().split('\n').at(-1) || undefined,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
