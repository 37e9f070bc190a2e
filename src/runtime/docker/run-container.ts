/**
 * One created container, from attach to exit: attach (before start, so no
 * byte is missed) → start → wait, with the step limits enforced through
 * `kill`, then `inspect` for the exit state. Removal is the caller's, in a
 * `finally`, so it happens whatever this throws.
 */
import type Dockerode from 'dockerode';
import type { EndReason } from '../../model/end-reason.js';
import {
  createSinkForwarder,
  settleWithin,
  type RuntimeLogger,
} from '../forward-output.js';
export type { RuntimeLogger } from '../forward-output.js';
import { RuntimeError } from '../runtime.js';
import type { OutputSink, RunResult, StepSpec } from '../runtime.js';
import { watchStepLimits } from '../watch-step-limits.js';
import type { StepLimitWatch } from '../watch-step-limits.js';
import { createDockerDemuxer } from './demux-docker-stream.js';
import {
  describeDockerError,
  getDockerStatusCode,
  isEngineUnreachableError,
} from './describe-docker-error.js';

export interface RunContainerOptions {
  container: Dockerode.Container;
  spec: StepSpec;
  sink: OutputSink;
  signal?: AbortSignal;
  logger?: RuntimeLogger;
}

/**
 * How long to wait, after the container exited, for the attach stream to
 * deliver its last bytes and end. The engine closes it right after exit;
 * the bound only matters when the engine misbehaves.
 */
const OUTPUT_DRAIN_MS = 10_000;

export async function runContainer(
  options: RunContainerOptions,
): Promise<RunResult> {
  const { container, spec, logger } = options;
  const stream = await callEngine('attach to', spec, () =>
    container.attach({ stream: true, stdout: true, stderr: true }),
  );
  let watch: StepLimitWatch | null = null;
  const forward = createSinkForwarder(options.sink, logger);
  const demuxer = createDockerDemuxer((which, chunk) => {
    watch?.noteOutput();
    forward(which, chunk);
  });
  const ended = new Promise<boolean>((resolve) => {
    stream.once('end', () => resolve(true));
    stream.once('close', () => resolve(true));
    stream.once('error', () => resolve(true));
  });
  stream.on('data', (chunk: Buffer) => demuxer.push(chunk));

  try {
    await callEngine('start', spec, () => container.start());
    const startedAt = new Date();
    watch = watchStepLimits({
      timeLimitMs: spec.timeLimitMs,
      noOutputTimeoutMs: spec.noOutputTimeoutMs,
      stopGraceMs: spec.stopGraceMs,
      signal: options.signal,
      sendSignal: async (signal) => {
        await container.kill({ signal });
      },
    });

    const waited = (await callEngine('wait for', spec, () =>
      container.wait(),
    )) as { StatusCode?: number };
    const endedAt = new Date();
    const drained = await settleWithin(ended, OUTPUT_DRAIN_MS);
    if (!drained) {
      logger?.warn(
        { executionId: spec.executionId },
        'output stream still open after the container exited',
      );
    }
    const stopReason = watch.stopReason();
    watch.dispose();

    const info = await callEngine('inspect', spec, () => container.inspect());
    const exitCode =
      typeof info.State.ExitCode === 'number'
        ? info.State.ExitCode
        : (waited.StatusCode ?? null);
    const reason: EndReason =
      stopReason ??
      (info.State.OOMKilled
        ? {
            kind: 'out-of-memory',
            limitBytes: spec.resources.memoryBytes ?? null,
          }
        : { kind: 'exited', exitCode: exitCode ?? -1 });
    return { reason, exitCode, startedAt, endedAt };
  } finally {
    watch?.dispose();
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}

/** Runs one Engine API call, turning its failure into a `RuntimeError`. */
export async function callEngine<T>(
  action: string,
  spec: Pick<StepSpec, 'executionId' | 'image'>,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const detail = describeDockerError(error);
    if (isEngineUnreachableError(error)) {
      throw new RuntimeError(
        'ENGINE_UNREACHABLE',
        `the Docker engine did not answer when asked to ${action} the container of execution ${spec.executionId}: ${detail} — check that dockerd is running and its socket is reachable`,
        { cause: error },
      );
    }
    if (getDockerStatusCode(error) === 404 && /image/i.test(detail)) {
      throw new RuntimeError(
        'IMAGE_UNAVAILABLE',
        `image ${JSON.stringify(spec.image)} is not on this Docker host: ${detail} — prepare the image before running`,
        { cause: error },
      );
    }
    throw new RuntimeError(
      'START_FAILED',
      `Docker could not ${action} the container of execution ${spec.executionId}: ${detail}`,
      { cause: error },
    );
  }
}
