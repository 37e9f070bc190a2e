/**
 * One created container, from attach to exit: attach (before start, so no
 * byte is missed) → start → wait (wait-for-exit.ts: bounded even when the
 * engine dies), with the step limits enforced through `kill`, then
 * `inspect` for the exit state. Removal is the caller's, in a `finally`,
 * so it happens whatever this throws.
 *
 * Faults are named right: a container the engine itself stopped (its
 * daemon shutting down sends SIGTERM: exit 143) or that died while the
 * engine was away is an infrastructure failure (`STOPPED_BY_ENGINE`,
 * `ENGINE_UNREACHABLE`, retried), never the step's exit code.
 */
import type Dockerode from 'dockerode';
import type { EndReason } from '../../model/end-reason.js';
import {
  createOutputGate,
  ENGINE_MAX_HOLD_MS,
  drainedWithin,
  type RuntimeLogger,
} from '../forward-output.js';
export type { RuntimeLogger } from '../forward-output.js';
import { RuntimeError } from '../runtime.js';
import type { OutputSink, RunResult, StepSpec } from '../runtime.js';
import { watchStepLimits } from '../watch-step-limits.js';
import type { StepLimitWatch, StopReason } from '../watch-step-limits.js';
import { attachOutput } from './attach-output.js';
import { callEngine } from './call-engine.js';
import { findEngineKill } from './find-engine-kill.js';
import { waitForExit } from './wait-for-exit.js';
import {
  watchContainerDisk,
  type ContainerDiskWatch,
} from './watch-container-disk.js';

export { callEngine } from './call-engine.js';

export interface RunContainerOptions {
  docker: Dockerode;
  container: Dockerode.Container;
  spec: StepSpec;
  sink: OutputSink;
  signal?: AbortSignal;
  logger?: RuntimeLogger;
  /** How often disk limits are looked at. @defaultValue 5000 */
  diskCheckMs?: number;
  /** How often the container is looked at besides the wait. @defaultValue 5000 */
  engineCheckMs?: number;
  /** An engine silent this long fails the step (retried). @defaultValue 60000 */
  engineLostMs?: number;
}

/**
 * How long to wait, after the container exited, for the attach stream to
 * deliver its last bytes and end, not counting the time the sink held it.
 * The engine closes it right after exit; the bound only matters when the
 * engine misbehaves.
 */
const OUTPUT_DRAIN_MS = 10_000;
/** 128 + SIGTERM, 128 + SIGKILL: how a signalled step's exit code reads. */
const SIGNAL_EXITS = new Set([143, 137]);

export async function runContainer(
  options: RunContainerOptions,
): Promise<RunResult> {
  return followContainer(options, async () => {
    await callEngine('start', options.spec, () => options.container.start());
    return new Date();
  });
}

/**
 * Follows a container a lost worker started, to its end, as `runContainer`
 * does (limits, output from now on, a bounded wait); `startedAt` is when
 * the engine started it.
 */
export async function adoptRunningContainer(
  options: RunContainerOptions & { startedAt: Date },
): Promise<RunResult> {
  return followContainer(options, async () => options.startedAt);
}

async function followContainer(
  options: RunContainerOptions,
  start: () => Promise<Date>,
): Promise<RunResult> {
  const { container, spec, logger } = options;
  let watch: StepLimitWatch | null = null;
  let disk: ContainerDiskWatch | null = null;
  // The attach stream is paused while the sink holds the output: the
  // engine then stops copying the container's output to it, and the step
  // blocks on its full pipe.
  const gate = createOutputGate({
    sink: options.sink,
    logger,
    pause: () => output.pause(),
    resume: () => output.resume(),
    maxHoldMs: ENGINE_MAX_HOLD_MS,
  });
  const output = attachOutput(container, spec, (which, chunk) => {
    watch?.noteOutput();
    gate.forward(which, chunk);
  });
  await output.attach();

  try {
    const startedAt = await start();
    watch = watchStepLimits({
      // The end names the step's limit, not the few ms less that were left
      // when the watch began (it said `afterMs: 999` for a 1000 ms limit).
      timeLimitMs: spec.timeLimitMs,
      alreadyRanMs: Math.max(0, Date.now() - startedAt.getTime()),
      noOutputTimeoutMs: spec.noOutputTimeoutMs,
      stopGraceMs: spec.stopGraceMs,
      signal: options.signal,
      outputHeld: gate.isHeld,
      sendSignal: async (signal) => {
        // The engine sees the container end only once its output was read:
        // a stop must not wait for the sink.
        gate.open();
        await container.kill({ signal });
      },
    });
    if (spec.diskLimits) {
      disk = watchContainerDisk({
        container,
        limits: spec.diskLimits,
        everyMs: options.diskCheckMs,
        onOver: (reason) => watch?.stop(reason),
      });
    }

    const exit = await waitForExit({
      container,
      spec,
      output,
      everyMs: options.engineCheckMs,
      lostAfterMs: options.engineLostMs,
      onReattached: () =>
        logger?.warn(
          { executionId: spec.executionId },
          'the Docker engine came back while a step ran; its output is followed again',
        ),
    });
    disk?.stop();
    const drained = await drainedWithin(output.ended(), OUTPUT_DRAIN_MS, gate);
    if (!drained) {
      logger?.warn(
        { executionId: spec.executionId },
        'output stream still open after the container exited',
      );
    }
    const stopReason = watch.stopReason();
    watch.dispose();

    const info = await callEngine('inspect', spec, () => container.inspect());
    return await readEnd({
      ...options,
      info,
      stopReason,
      exit,
      startedAt,
    });
  } finally {
    disk?.stop();
    watch?.dispose();
    output.close();
  }
}

/**
 * The end of an exited container as a `RunResult`: kiln's stop reason
 * first, then out of memory, else the exit code — unless the engine
 * caused the exit (which throws: an infrastructure failure).
 */
export async function readEnd(options: {
  docker: Dockerode;
  container: Dockerode.Container;
  spec: StepSpec;
  info: Dockerode.ContainerInspectInfo;
  stopReason: StopReason | null;
  exit: { exitCode: number | null; engineAwayMs: number };
  startedAt: Date;
}): Promise<RunResult> {
  const { info, spec, stopReason, exit, startedAt } = options;
  const exitCode =
    typeof info.State.ExitCode === 'number'
      ? info.State.ExitCode
      : exit.exitCode;
  const notes: string[] = [];
  if (stopReason === null && !info.State.OOMKilled && exitCode !== 0) {
    await blameTheEngine({ ...options, exitCode });
  }
  if (exit.engineAwayMs > 0) {
    notes.push(
      `the Docker engine did not answer for about ${Math.max(1, Math.round(exit.engineAwayMs / 1000))} s while the step ran; output printed meanwhile may be missing`,
    );
  }
  const reason: EndReason =
    stopReason ??
    (info.State.OOMKilled
      ? {
          kind: 'out-of-memory',
          limitBytes: spec.resources.memoryBytes ?? null,
        }
      : { kind: 'exited', exitCode: exitCode ?? -1 });
  const finished = Date.parse(info.State.FinishedAt);
  return {
    reason,
    exitCode,
    startedAt,
    endedAt:
      Number.isFinite(finished) && finished > 0
        ? new Date(finished)
        : new Date(),
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/**
 * A failed exit kiln did not cause, which the engine did: the engine sent
 * the signal (a daemon shutdown stops every container with SIGTERM; an
 * operator's `docker stop`), or the engine was away while the step died.
 * Those are the infrastructure's, so they throw (the step is retried).
 */
async function blameTheEngine(options: {
  docker: Dockerode;
  container: Dockerode.Container;
  spec: StepSpec;
  exitCode: number | null;
  exit: { engineAwayMs: number };
  startedAt: Date;
}): Promise<void> {
  const { spec, exitCode } = options;
  if (exitCode !== null && SIGNAL_EXITS.has(exitCode)) {
    // An engine that can't say, right after the exit, is going down.
    const signal = await findEngineKill({
      docker: options.docker,
      containerId: options.container.id,
      since: options.startedAt,
    }).catch(() => 'unknown: the engine stopped answering');
    if (signal !== null) {
      throw new RuntimeError(
        'STOPPED_BY_ENGINE',
        `the Docker engine stopped the container of execution ${spec.executionId} (signal ${signal}: its daemon shutting down or restarting, or a docker stop from outside kiln); the step is retried`,
      );
    }
  }
  if (options.exit.engineAwayMs > 0) {
    throw new RuntimeError(
      'ENGINE_UNREACHABLE',
      `the Docker engine went away while execution ${spec.executionId} ran and the step ended with exit code ${exitCode ?? 'unknown'}; the step is retried`,
    );
  }
}
