/**
 * `Runtime` for machines without Docker: each step is `/bin/sh -c script`
 * in its own process group on this host.
 *
 * It offers NO isolation: the step runs as the worker's user, sees the
 * whole file system and the network, and neither memory, CPU, pids, device
 * nor read-only limits apply (`resources`, `network` and `mounts[].readOnly`
 * are ignored). Use it for your own code on your own machine (`kiln run`),
 * never for code from forks.
 *
 * What it does keep from the container contract: the working directory and
 * env values that name container paths are rewritten through
 * `spec.localPaths`; time limits, the no-output limit and stop requests use
 * the same SIGTERM → grace → SIGKILL sequence, sent to the whole process
 * group; output is streamed chunk by chunk, and both pipes are paused
 * while the sink holds the output (the step then blocks writing to them).
 * Whatever the step left running
 * in its process group is killed when the step ends.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { buildStepScript } from '../build-step-script.js';
import { RuntimeError } from '../runtime.js';
import {
  createOutputGate,
  drainedWithin,
  stoppedBeforeStart,
  type OutputGate,
} from '../forward-output.js';
import type {
  OutputSink,
  PreparedImage,
  RunResult,
  Runtime,
  StepSpec,
} from '../runtime.js';
import { watchStepLimits } from '../watch-step-limits.js';
import type { StopSignal } from '../watch-step-limits.js';
import { mapLocalPath } from './map-local-path.js';

export interface LocalRuntimeOptions {
  /**
   * The environment every step starts from; the step's own `env` is laid
   * over it. By default only the variables tools need to work (PATH, HOME,
   * USER, locale, TMPDIR), so the worker's secrets do not leak into steps.
   * @defaultValue those variables of this process
   */
  baseEnv?: Record<string, string>;
}

/** After the shell exited, how long its pipes may stay open (escapees). */
const OUTPUT_DRAIN_MS = 5_000;
const FALLBACK_PATH = '/usr/local/bin:/usr/bin:/bin';
const PASSED_VARIABLES = ['HOME', 'USER', 'LANG', 'LC_ALL', 'TMPDIR'] as const;

export class LocalRuntime implements Runtime {
  readonly kind = 'local' as const;
  readonly #baseEnv: Readonly<Record<string, string>>;

  constructor(options: LocalRuntimeOptions = {}) {
    this.#baseEnv = options.baseEnv ?? pickBaseEnv(process.env);
  }

  async findImage(image: string): Promise<PreparedImage> {
    return this.prepareImage(image);
  }

  /** Idempotent; never touches the image. */
  async prepareImage(image: string): Promise<PreparedImage> {
    return {
      image,
      digest: null,
      note: `image ${image} is not used: the local runtime runs steps on this host without containers`,
    };
  }

  async run(
    spec: StepSpec,
    sink: OutputSink,
    signal?: AbortSignal,
  ): Promise<RunResult> {
    const localPaths = spec.localPaths ?? {};
    const cwd = mapLocalPath(spec.workdir, localPaths);
    await checkDirectory(cwd, spec.workdir);
    const env: Record<string, string> = { ...this.#baseEnv };
    for (const [name, value] of Object.entries(spec.env)) {
      if (name === '' || name.includes('=') || name.includes('\0')) {
        throw new RuntimeError(
          'START_FAILED',
          `environment variable name ${JSON.stringify(name)} is not valid (it must be non-empty, without "=" or NUL)`,
        );
      }
      env[name] = mapLocalPath(value, localPaths);
    }
    if (signal?.aborted) return stoppedBeforeStart();

    const child = await spawnShell({
      script: buildStepScript(spec.commands),
      cwd,
      env,
    });
    const startedAt = new Date();
    // Listened for from the start: `close` may come right after `exit`.
    const closed = new Promise<void>((resolve) => {
      child.once('close', () => resolve());
    });
    const gate = createOutputGate({
      sink,
      pause: () => {
        child.stdout?.pause();
        child.stderr?.pause();
      },
      resume: () => {
        child.stdout?.resume();
        child.stderr?.resume();
      },
    });
    const watch = watchStepLimits({
      timeLimitMs: spec.timeLimitMs,
      noOutputTimeoutMs: spec.noOutputTimeoutMs,
      stopGraceMs: spec.stopGraceMs,
      signal,
      outputHeld: gate.isHeld,
      sendSignal: async (stop) => {
        // A stopped step's output is read on whatever the sink holds.
        gate.open();
        signalGroup(child, stop);
      },
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      watch.noteOutput();
      gate.forward('stdout', chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      watch.noteOutput();
      gate.forward('stderr', chunk);
    });

    const exit = await waitForExit(child);
    const endedAt = new Date();
    const stopReason = watch.stopReason();
    watch.dispose();
    // Background processes of the step must not outlive it.
    signalGroup(child, 'SIGKILL');
    await waitForPipes(child, closed, gate);

    const exitCode =
      exit.code ??
      (exit.signal === null ? null : 128 + constants.signals[exit.signal]);
    return {
      reason: stopReason ?? { kind: 'exited', exitCode: exitCode ?? -1 },
      exitCode,
      startedAt,
      endedAt,
    };
  }

  /**
   * Always 0: a process group left by a crashed worker cannot be told from
   * the user's own processes without a pid registry, which this runtime
   * does not keep.
   */
  async reapOrphans(): Promise<number> {
    return 0;
  }

  async ping(): Promise<boolean> {
    return true;
  }
}

function pickBaseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = { PATH: env.PATH ?? FALLBACK_PATH };
  for (const name of PASSED_VARIABLES) {
    const value = env[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

async function checkDirectory(path: string, asWritten: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory() !== true) {
    const mapped = path === asWritten ? '' : ` (mapped to ${path})`;
    throw new RuntimeError(
      'START_FAILED',
      `working directory ${asWritten}${mapped} does not exist on this host — create it, or map the container path in localPaths`,
    );
  }
}

function spawnShell(options: {
  script: string;
  cwd: string;
  env: Record<string, string>;
}): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', options.script], {
      cwd: options.cwd,
      env: options.env,
      // Its own process group, so stop signals reach everything it forks.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.once('spawn', () => resolve(child));
    child.once('error', (error) =>
      reject(
        new RuntimeError(
          'START_FAILED',
          `could not start /bin/sh: ${error.message}`,
          { cause: error },
        ),
      ),
    );
  });
}

function signalGroup(child: ChildProcess, signal: StopSignal): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

function waitForExit(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Waits for the last output (for as long as the sink holds it, plus the
 * bound); a process that escaped the group is cut off.
 */
async function waitForPipes(
  child: ChildProcess,
  closed: Promise<void>,
  gate: OutputGate,
): Promise<void> {
  if (!(await drainedWithin(closed, OUTPUT_DRAIN_MS, gate))) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}
