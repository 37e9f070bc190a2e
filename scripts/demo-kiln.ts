/**
 * The demo's kiln: `kiln up` as a child process (its own data dir, port and
 * secret), and a watcher that prints a run's states as they change. The
 * watcher reads the run store directly, so it works with or without the
 * HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunRecord } from '../src/model/run.js';
import type { RunStore } from '../src/store/index.js';

export interface KilnProcess {
  port: number;
  url: string;
  logFile: string;
  /** Resolves when the child has exited (stop() or a crash). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartKilnOptions {
  root: string;
  env: NodeJS.ProcessEnv;
  port: number;
  logFile: string;
  /** @defaultValue 90000 */
  readyTimeoutMs?: number;
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

/** Starts `kiln up` and waits until `/readyz` answers 200. */
export async function startKiln(
  options: StartKilnOptions,
): Promise<KilnProcess> {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child: ChildProcess = spawn(
    process.execPath,
    ['bin/kiln.js', 'up', '--port', String(options.port)],
    {
      cwd: options.root,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C reaches the demo only, which then
      // stops kiln with one SIGTERM (a second signal would skip the
      // graceful shutdown).
      detached: true,
    },
  );
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      log.end();
      resolve(code);
    });
  });
  const url = `http://127.0.0.1:${options.port}`;
  let stopping: Promise<void> | undefined;
  const kiln: KilnProcess = {
    port: options.port,
    url,
    logFile: options.logFile,
    exited,
    stop(graceMs = 45_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  while (!dead) {
    if (await isReady(url)) return kiln;
    if (Date.now() > deadline) break;
    await sleep(300);
  }
  await kiln.stop(5_000);
  throw new Error(
    `kiln did not become ready${dead ? ' (it exited)' : ''}; its log:\n${await tail(options.logFile)}`,
  );
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`, {
      signal: AbortSignal.timeout(3_000),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

export async function tail(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const FINISHED = new Set(['complete', 'error', 'stopped', 'cancelled']);

export interface WaitForRunOptions {
  runs: RunStore;
  repository: string;
  ref: string;
  /** Runs that existed before (ignored). */
  known: ReadonlySet<string>;
  timeoutMs: number;
  /** Fails the wait at once when kiln exits. */
  kiln: KilnProcess;
  print(line: string): void;
}

/**
 * Waits for a new run on `ref` to appear and finish, printing the run's
 * and each node's state whenever one changes.
 */
export async function waitForRun(
  options: WaitForRunOptions,
): Promise<RunRecord> {
  const { runs, print } = options;
  const deadline = Date.now() + options.timeoutMs;
  let exited = false;
  void options.kiln.exited.then(() => {
    exited = true;
  });
  let last = '';
  while (Date.now() < deadline) {
    if (exited)
      throw new Error('kiln exited while the demo was waiting for a run');
    const found = await runs.listRuns({
      repository: options.repository,
      ref: options.ref,
      limit: 20,
    });
    const run = found.find((candidate) => !options.known.has(candidate.id));
    if (run) {
      const line = describeState(run);
      if (line !== last) {
        print(line);
        last = line;
      }
      if (FINISHED.has(run.status)) return run;
    }
    await sleep(500);
  }
  throw new Error(
    `no finished run on ${options.ref} within ${Math.round(options.timeoutMs / 1000)} s`,
  );
}

function describeState(run: RunRecord): string {
  const nodes = run.nodes.map((node) => `${node.name} ${node.status}`);
  const reason = run.reason ? ` — ${run.reason}` : '';
  return `  run #${run.counter} ${run.name}: ${run.status}${reason}${nodes.length > 0 ? ` · ${nodes.join(' · ')}` : ''}`;
}
