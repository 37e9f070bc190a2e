/**
 * One created Pod, from scheduling to the step's exit: wait for it to be
 * placed and started (giving up on a Pod nobody can schedule or whose image
 * can't be pulled), stream the step's folders in (`copy`), attach and
 * release the step's gate, stream its output to the sink, enforce the step
 * limits, then read the exit and stream the writable folders back out.
 * Deleting the Pod is the caller's, in a `finally`, so it happens whatever
 * this throws.
 */
import { PassThrough } from 'node:stream';
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { IPod } from 'kubernetes-models/v1';
import type { EndReason } from '../../model/end-reason.js';
import {
  createOutputGate,
  ENGINE_MAX_HOLD_MS,
  drainedWithin,
  type OutputGate,
  type RuntimeLogger,
} from '../forward-output.js';
export type { RuntimeLogger } from '../forward-output.js';
import { RuntimeError } from '../runtime.js';
import type { OutputSink, RunResult, StepSpec } from '../runtime.js';
import { watchStepLimits } from '../watch-step-limits.js';
import type { StepLimitWatch } from '../watch-step-limits.js';
import {
  FILES_ROOT,
  INPUT_COMPLETE_MARKER,
  POD_CONTAINERS,
  type FileMode,
} from './build-pod.js';
import { describeKubeError } from './describe-kube-error.js';
import { extractFolders } from './extract-folders.js';
import { openContainerStream } from './open-container-stream.js';
import type { ContainerStream } from './open-container-stream.js';
import { packFolders } from './pack-folders.js';
import { readPodState, type PodState } from './read-pod-state.js';
import { watchPod, type PodWatch } from './watch-pod.js';

export interface RunPodOptions {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  name: string;
  created: IPod;
  spec: StepSpec;
  files: FileMode;
  sink: OutputSink;
  signal?: AbortSignal;
  logger?: RuntimeLogger;
  /** A Pod no node takes for this long fails the attempt (UNSCHEDULABLE). */
  unschedulableTimeoutMs: number;
  /** Image pull errors are retried by the kubelet for this long. */
  imagePullGraceMs: number;
  /** The API server may be unreachable for this long mid-step. */
  unreachableTimeoutMs: number;
}

/**
 * Output still arriving after the exit was seen is waited for this long
 * (not counting the time the sink held it).
 */
const OUTPUT_DRAIN_MS = 10_000;
/** After the grace period, the kubelet has this long to report the exit. */
const FORCE_AFTER_MS = 10_000;
/**
 * The Pod's deadline is a backstop for a worker that died: kiln times the
 * step itself (so it can take the outputs of a step it stopped), and the
 * kubelet kills the Pod this long after kiln would have.
 */
const DEADLINE_BACKSTOP_S = 30;
const SIGNAL_TIMEOUT_MS = 5_000;
const POLL_MS = 1_000;
const ATTACH_TRIES = 5;
const ATTACH_FIRST_DELAY_MS = 100;

export async function runPod(options: RunPodOptions): Promise<RunResult> {
  const watch = watchPod({
    kubeConfig: options.kubeConfig,
    core: options.core,
    namespace: options.namespace,
    name: options.name,
    initial: options.created,
  });
  let limits: StepLimitWatch | null = null;
  // The session pauses itself when a handler returns false (the sink holds
  // the output); the newest session is the one to resume.
  let session: ContainerStream | null = null;
  const gate = createOutputGate({
    sink: options.sink,
    logger: options.logger,
    pause: () => undefined,
    resume: () => session?.resume(),
    maxHoldMs: ENGINE_MAX_HOLD_MS,
  });
  const deliver = (which: 'stdout' | 'stderr', chunk: Buffer): boolean => {
    limits?.noteOutput();
    gate.forward(which, chunk);
    return !gate.isHeld();
  };
  const openStep = async (stdin: boolean): Promise<ContainerStream> => {
    const opened = await openContainerStream({
      kubeConfig: options.kubeConfig,
      namespace: options.namespace,
      pod: options.name,
      container: POD_CONTAINERS.step,
      stdin,
      onStdout: (chunk) => deliver('stdout', chunk),
      onStderr: (chunk) => deliver('stderr', chunk),
    });
    session = opened;
    return opened;
  };
  try {
    const started = await waitForStart(options, watch, openStep);
    if (started.kind === 'stopped') {
      const now = new Date();
      return {
        reason: { kind: 'stopped' },
        exitCode: null,
        startedAt: now,
        endedAt: now,
      };
    }
    const output = followOutput(options, watch, started.session, openStep);
    return await followStep({
      options,
      watch,
      output,
      gate,
      setLimits: (value) => (limits = value),
    });
  } finally {
    watch.close();
  }
}

/**
 * Until kiln is attached to the step container and has released its gate.
 * Attaching is tried as soon as the Pod is on a node (and its files are
 * in), not only once its status says the container runs: the kubelet
 * reports a state change up to a second late, and the gate would make every
 * step pay that twice (start and exit).
 */
async function waitForStart(
  options: RunPodOptions,
  watch: PodWatch,
  openStep: (stdin: boolean) => Promise<ContainerStream>,
): Promise<
  { kind: 'running'; session: ContainerStream } | { kind: 'stopped' }
> {
  const { spec, signal } = options;
  let unschedulableSince: number | null = null;
  let pullFailingSince: number | null = null;
  let filesSent = options.files !== 'copy' || spec.mounts.length === 0;
  let attachDelayMs = ATTACH_FIRST_DELAY_MS;
  let failedWhileRunning = 0;
  let lastAttachError = '';
  for (;;) {
    if (signal?.aborted) return { kind: 'stopped' };
    checkReachable(options, watch);
    const state = readPodState(watch.pod);
    const bound = Boolean(watch.pod?.spec?.nodeName);
    if (
      filesSent &&
      bound &&
      (state.kind === 'pending' || state.kind === 'step-running')
    ) {
      try {
        const session = await openStep(true);
        await session.write(Buffer.from('\n'));
        return { kind: 'running', session };
      } catch (error) {
        lastAttachError = (error as Error).message;
        if (
          state.kind === 'step-running' &&
          ++failedWhileRunning >= ATTACH_TRIES
        ) {
          throw new RuntimeError(
            'START_FAILED',
            `could not attach to the step of execution ${spec.executionId}: ${lastAttachError}`,
          );
        }
      }
      // Not created yet (or an image still being pulled): try again soon,
      // less often the longer it takes.
      await waitForChange(watch, signal, attachDelayMs);
      attachDelayMs = Math.min(POLL_MS, attachDelayMs * 1.5);
      continue;
    }
    if (state.kind === 'files-in-running' && !filesSent) {
      await sendFiles(options);
      filesSent = true;
      continue;
    }
    switch (state.kind) {
      case 'files-in-running':
      case 'step-running':
        break;
      case 'pending':
        pullFailingSince = null;
        if (state.unschedulable === null) {
          unschedulableSince = null;
        } else {
          unschedulableSince ??= Date.now();
          if (
            Date.now() - unschedulableSince >=
            options.unschedulableTimeoutMs
          ) {
            throw new RuntimeError(
              'UNSCHEDULABLE',
              `no node took the Pod of execution ${spec.executionId} in ${Math.round(options.unschedulableTimeoutMs / 1000)} s: ${state.unschedulable} — free or add capacity, or lower the step's resources or change its environment`,
            );
          }
        }
        break;
      case 'image-unavailable':
        pullFailingSince ??= Date.now();
        if (Date.now() - pullFailingSince >= options.imagePullGraceMs) {
          throw new RuntimeError(
            'IMAGE_UNAVAILABLE',
            `the cluster could not pull image ${JSON.stringify(spec.image)}: ${state.message} — check the image name and the registry credentials (KILN_KUBERNETES_IMAGE_PULL_SECRETS)`,
          );
        }
        break;
      case 'start-failed':
        throw new RuntimeError(
          'START_FAILED',
          `the Pod of execution ${spec.executionId} could not start: ${state.message}`,
        );
      case 'gone':
        throw new RuntimeError(
          'POD_LOST',
          `the Pod of execution ${spec.executionId} was deleted before its step started (by someone else, or with its node)`,
        );
      case 'pod-failed':
      case 'stopping':
        throw new RuntimeError(
          'POD_LOST',
          state.kind === 'stopping'
            ? `the Pod of execution ${spec.executionId} failed before its step started: ${state.podReason}`
            : `the Pod of execution ${spec.executionId} failed before its step started: ${state.reason}${state.message ? `: ${state.message}` : ''}`,
        );
      case 'step-ended':
        // The gate holds the commands until kiln attaches: a step that ended
        // already never ran them (killed at start, or deadline while pulling).
        throw new RuntimeError(
          'POD_LOST',
          `the step container of execution ${spec.executionId} ended before kiln released it (${state.podReason ?? `exit code ${state.exitCode}`})`,
        );
    }
    await waitForChange(watch, signal, POLL_MS);
  }
}

/** `copy`: the step's folders into the Pod, through the init container. */
async function sendFiles(options: RunPodOptions): Promise<void> {
  const { spec } = options;
  const errors: Buffer[] = [];
  let stream: ContainerStream | null = null;
  let lastError = '';
  // A kubelet that has only just started the init container may not serve
  // an attach to it yet: a few tries.
  for (
    let attempt = 1;
    attempt <= ATTACH_TRIES && stream === null;
    attempt += 1
  ) {
    try {
      stream = await openContainerStream({
        kubeConfig: options.kubeConfig,
        namespace: options.namespace,
        pod: options.name,
        container: POD_CONTAINERS.filesIn,
        stdin: true,
        onStderr: (chunk) => void errors.push(chunk),
        onStdout: (chunk) => void errors.push(chunk),
      });
    } catch (error) {
      lastError = (error as Error).message;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
  if (stream === null) {
    throw new RuntimeError(
      'START_FAILED',
      `could not copy the step's files into its Pod: ${lastError}`,
    );
  }
  try {
    const archive = packFolders(
      spec.mounts.map((mount, index) => ({
        name: `m${index}`,
        hostPath: mount.hostPath,
        writable: !mount.readOnly,
      })),
      INPUT_COMPLETE_MARKER,
    );
    for await (const chunk of archive) {
      if (options.signal?.aborted) break;
      await stream.write(chunk as Buffer);
    }
  } catch (error) {
    stream.close();
    throw new RuntimeError(
      'START_FAILED',
      `could not copy the step's files into its Pod: ${(error as Error).message}${errors.length ? ` (${Buffer.concat(errors).toString('utf8', 0, 500).trim()})` : ''}`,
    );
  }
  // v4 has no half-close: ending the session is how `stdinOnce` ends stdin.
  stream.close();
  await stream.ended;
}

interface FollowStepOptions {
  options: RunPodOptions;
  watch: PodWatch;
  output: { ended: Promise<void>; close(): void };
  gate: OutputGate;
  setLimits: (limits: StepLimitWatch) => void;
}

/** From the released gate to the step's end and its folders back. */
async function followStep(follow: FollowStepOptions): Promise<RunResult> {
  const { options, watch, output, gate } = follow;
  const forward = gate.forward;
  const { spec, logger } = options;
  const startedAt = new Date();
  await lowerDeadline(options, watch);

  let stopAskedAt: number | null = null;
  const limits = watchStepLimits({
    timeLimitMs: spec.timeLimitMs,
    noOutputTimeoutMs: spec.noOutputTimeoutMs,
    stopGraceMs: spec.stopGraceMs,
    signal: options.signal,
    outputHeld: gate.isHeld,
    sendSignal: async (stopSignal) => {
      // A stop never waits for the sink: the output is read on.
      gate.open();
      stopAskedAt ??= Date.now();
      if (stopSignal === 'SIGKILL') {
        // The step ignored SIGTERM for the whole grace period: the kubelet
        // kills it (its outputs go with the Pod, as they would have no time).
        await deletePod(options, 0);
      } else if (!(await signalStep(options))) {
        await deletePod(options, stopGraceSeconds(spec));
      }
    },
  });
  follow.setLimits(limits);

  let ended: Extract<PodState, { kind: 'step-ended' }> | null = null;
  let stoppingSince: number | null = null;
  try {
    for (;;) {
      const state = readPodState(watch.pod);
      if (state.kind === 'step-ended') {
        ended = state;
        break;
      }
      if (state.kind === 'stopping') {
        // Give the kubelet the grace period and a little more to report the
        // step's exit; outputs are taken only once it stopped writing them.
        stoppingSince ??= Date.now();
        if (
          Date.now() - stoppingSince >=
          stopGraceSeconds(spec) * 1000 + FORCE_AFTER_MS
        ) {
          ended = {
            kind: 'step-ended',
            exitCode: null,
            oomKilled: false,
            podReason: state.podReason,
          };
          break;
        }
      }
      if (state.kind === 'gone' || state.kind === 'pod-failed') {
        if (stopAskedAt !== null) break;
        if (
          state.kind === 'pod-failed' &&
          state.reason === 'DeadlineExceeded'
        ) {
          ended = {
            kind: 'step-ended',
            exitCode: null,
            oomKilled: false,
            podReason: state.reason,
          };
          break;
        }
        throw new RuntimeError(
          'POD_LOST',
          state.kind === 'gone'
            ? `the Pod of execution ${spec.executionId} was deleted while its step ran (its node was lost, or someone deleted it)`
            : `the Pod of execution ${spec.executionId} failed while its step ran: ${state.reason}${state.message ? `: ${state.message}` : ''}`,
        );
      }
      checkReachable(options, watch);
      await waitForChange(watch, undefined, POLL_MS);
    }
    const endedAt = new Date();
    const drained = await drainedWithin(output.ended, OUTPUT_DRAIN_MS, gate);
    if (!drained) {
      logger?.warn(
        { executionId: spec.executionId },
        'output stream still open after the step exited',
      );
    }
    const stopReason = limits.stopReason();
    const reason: EndReason =
      stopReason ??
      (ended?.podReason === 'DeadlineExceeded' && spec.timeLimitMs !== undefined
        ? { kind: 'timed-out', afterMs: spec.timeLimitMs }
        : ended?.oomKilled
          ? {
              kind: 'out-of-memory',
              limitBytes: spec.resources.memoryBytes ?? null,
            }
          : { kind: 'exited', exitCode: ended?.exitCode ?? -1 });
    const result: RunResult = {
      reason,
      exitCode: ended?.exitCode ?? null,
      startedAt,
      endedAt,
    };
    await takeOutputs(options, watch, result, forward);
    return result;
  } finally {
    limits.dispose();
    output.close();
  }
}

/**
 * The step's output session until the step exits. A session that drops
 * while the step still runs is attached again (output printed in between
 * is not streamed).
 */
function followOutput(
  options: RunPodOptions,
  watch: PodWatch,
  first: ContainerStream,
  openStep: (stdin: boolean) => Promise<ContainerStream>,
): { ended: Promise<void>; close(): void } {
  let current = first;
  let closed = false;
  const open = openStep;
  const ended = (async () => {
    for (;;) {
      const session: ContainerStream = current;
      const end = await session.ended;
      // A clean end is the process exiting; only a dropped connection to a
      // step that still runs is attached again.
      if (closed || end.clean) return;
      await waitForChange(watch, undefined, POLL_MS);
      if (readPodState(watch.pod).kind !== 'step-running') return;
      options.logger?.warn(
        { executionId: options.spec.executionId, reason: end.error },
        'lost the step output stream; attaching again',
      );
      try {
        current = await open(false);
      } catch {
        // The container may have just exited: the watch tells.
        await waitForChange(watch, undefined, POLL_MS);
        if (readPodState(watch.pod).kind !== 'step-running') return;
      }
    }
  })();
  return {
    ended,
    close() {
      closed = true;
      current?.close();
    },
  };
}

/**
 * The Pod's deadline counts from its start on the node (image pull and
 * copy-in included): once the step runs, lower it to the step's own time
 * limit, plus the grace period and a margin (kiln stops the step first and
 * takes its outputs; the deadline is for a worker that is gone).
 */
async function lowerDeadline(
  options: RunPodOptions,
  watch: PodWatch,
): Promise<void> {
  const { spec } = options;
  if (spec.timeLimitMs === undefined) return;
  const podStart = Date.parse(watch.pod?.status?.startTime ?? '');
  if (!Number.isFinite(podStart)) return;
  const seconds =
    Math.ceil((Date.now() - podStart + spec.timeLimitMs) / 1000) +
    stopGraceSeconds(spec) +
    DEADLINE_BACKSTOP_S;
  try {
    await options.core.patchNamespacedPod({
      namespace: options.namespace,
      name: options.name,
      body: [
        { op: 'replace', path: '/spec/activeDeadlineSeconds', value: seconds },
      ],
    });
  } catch (error) {
    options.logger?.warn(
      { executionId: spec.executionId, reason: describeKubeError(error) },
      'could not lower the Pod deadline (kiln still times the step)',
    );
  }
}

/**
 * SIGTERM to the step's PID 1 (the wrapper, which passes it on), through an
 * exec of the image's own shell: the Pod is not deleted, so the kubelet
 * keeps reporting it and the outputs can be taken once the step exited.
 */
async function signalStep(options: RunPodOptions): Promise<boolean> {
  try {
    const stream = await openContainerStream({
      kubeConfig: options.kubeConfig,
      namespace: options.namespace,
      pod: options.name,
      container: POD_CONTAINERS.step,
      // The wrapper's trap sends TERM to every process of the container but
      // itself, this exec's shell included: ignoring TERM keeps it alive to
      // exit 0, instead of ending killed (a failure that made kiln delete the
      // Pod and lose the outputs of a step it had stopped cleanly).
      command: ['/bin/sh', '-c', "trap '' TERM; kill -s TERM 1"],
      stdin: false,
      // At least one stream is required for an exec.
      onStderr: () => undefined,
    });
    const ended = await Promise.race([
      stream.ended,
      new Promise<null>((resolve) =>
        setTimeout(() => resolve(null), SIGNAL_TIMEOUT_MS).unref(),
      ),
    ]);
    if (ended === null) stream.close();
    return ended?.status?.status === 'Success';
  } catch (error) {
    options.logger?.warn(
      {
        executionId: options.spec.executionId,
        reason: (error as Error).message,
      },
      'could not signal the step; deleting its Pod with grace instead',
    );
    return false;
  }
}

/**
 * `copy`: streams the writable folders (outputs) back into the worker's
 * folders from the `kiln-files-out` sidecar, then releases its preStop hook.
 * A step that ran to its end and lost its outputs is an infrastructure
 * failure (the attempt is retried); a stopped or timed-out step keeps its
 * result, and the loss is said in its log.
 */
async function takeOutputs(
  options: RunPodOptions,
  watch: PodWatch,
  result: RunResult,
  forward: (which: 'stdout' | 'stderr', chunk: Buffer) => void,
): Promise<void> {
  const { spec } = options;
  const wanted = spec.mounts
    .map((mount, index) => ({ mount, key: `m${index}` }))
    .filter(({ mount }) => !mount.readOnly);
  if (options.files !== 'copy' || wanted.length === 0) return;
  const targets = Object.fromEntries(
    wanted.map(({ mount, key }) => [key, mount.hostPath]),
  );
  try {
    const sidecar = watch.pod?.status?.containerStatuses?.find(
      (item) => item.name === POD_CONTAINERS.filesOut,
    );
    if (!sidecar?.state?.running) {
      throw new Error('the Pod is already being stopped');
    }
    const archive = new PassThrough({ highWaterMark: 1024 * 1024 });
    const errors: Buffer[] = [];
    const stream = await openContainerStream({
      kubeConfig: options.kubeConfig,
      namespace: options.namespace,
      pod: options.name,
      container: POD_CONTAINERS.filesOut,
      command: [
        'sh',
        '-c',
        `tar -c -f - -C ${FILES_ROOT} "$@"`,
        'kiln-take-outputs',
        ...wanted.map(({ key }) => key),
      ],
      stdin: false,
      onStdout: (chunk) => archive.write(chunk),
      onStderr: (chunk) => void errors.push(chunk),
    });
    archive.on('drain', () => stream.resume());
    const extracting = extractFolders(archive, targets);
    const { status, error } = await stream.ended;
    archive.end();
    const extracted = await extracting;
    if (error !== null || status?.status !== 'Success') {
      throw new Error(
        `${error ?? status?.message ?? 'the copy did not finish'}${errors.length ? ` (${Buffer.concat(errors).toString('utf8', 0, 500).trim()})` : ''}`,
      );
    }
    if (extracted.skipped.length > 0) {
      forward(
        'stderr',
        Buffer.from(
          `kiln: ${extracted.skipped.length} output entr${extracted.skipped.length === 1 ? 'y was' : 'ies were'} not copied out of the Pod: ${extracted.skipped.slice(0, 5).join('; ')}\n`,
        ),
      );
    }
  } catch (error) {
    const message = `could not copy the outputs of execution ${spec.executionId} out of its Pod: ${(error as Error).message}`;
    if (
      result.reason.kind === 'exited' ||
      result.reason.kind === 'out-of-memory'
    ) {
      throw new RuntimeError('POD_LOST', message);
    }
    forward('stderr', Buffer.from(`kiln: ${message}\n`));
  }
}

async function deletePod(
  options: RunPodOptions,
  gracePeriodSeconds: number,
): Promise<void> {
  try {
    await options.core.deleteNamespacedPod({
      namespace: options.namespace,
      name: options.name,
      gracePeriodSeconds,
    });
  } catch (error) {
    options.logger?.debug(
      {
        executionId: options.spec.executionId,
        reason: describeKubeError(error),
      },
      'could not delete the Pod (it may be gone already)',
    );
  }
}

export function stopGraceSeconds(spec: StepSpec): number {
  return Math.max(1, Math.ceil((spec.stopGraceMs ?? 10_000) / 1000));
}

function checkReachable(options: RunPodOptions, watch: PodWatch): void {
  const since = watch.unreachableSince;
  if (since !== null && Date.now() - since >= options.unreachableTimeoutMs) {
    throw new RuntimeError(
      'ENGINE_UNREACHABLE',
      `the Kubernetes API server did not answer about the Pod of execution ${options.spec.executionId} for ${Math.round((Date.now() - since) / 1000)} s — check the cluster and kiln's access to it`,
    );
  }
}

/** The next Pod change, the abort, or `ms`, whichever comes first. */
async function waitForChange(
  watch: PodWatch,
  signal: AbortSignal | undefined,
  ms: number,
): Promise<void> {
  if (signal === undefined) return watch.changed(ms);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([watch.changed(ms), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
