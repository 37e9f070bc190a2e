/**
 * Where a step's commands execute. Three implementations: Docker (the Engine
 * API through dockerode), Kubernetes (a Pod per step through the API server)
 * and local processes (machines without Docker).
 *
 * Contract:
 * - The worker calls `findImage` (a cheap check, never a pull) and, when the
 *   image is missing, `prepareImage`, then `run` for one execution attempt, and
 *   `reapOrphans` once at start and before re-running an attempt that may
 *   have left a container behind.
 * - `run` resolves (never rejects) for anything the step did: exit codes,
 *   out of memory, time and disk limits, being stopped. It rejects with a
 *   `RuntimeError` only for infrastructure failures (engine unreachable or
 *   gone for too long while the step ran, the engine stopping the
 *   container itself, image missing) that a retry may fix. A step never
 *   waits on an engine that went away for longer than a bounded time.
 * - Output chunks reach `sink` as they come, in order per stream; the
 *   runtime never buffers a whole log. The sink may push back (see
 *   `OutputSink`): the runtime then stops reading the step's output until
 *   it is told to go on, so a step that prints faster than its log is
 *   stored waits in its own pipe, not in the worker's memory.
 * - Whatever happens, the container (or process group) is gone when `run`
 *   settles; `run` is safe to call again with the same spec after a crash,
 *   since a leftover container of the same execution is removed first.
 */
import type { EndReason } from '../model/end-reason.js';
import { KilnError } from '../errors.js';

export interface BindMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface StepResources {
  /** CPU limit in cores (0.5 = half a core). */
  cpus?: number;
  /** Memory limit in bytes (swap is not added). */
  memoryBytes?: number;
  /** Device requests, e.g. `{ 'nvidia.com/gpu': 1 }`. */
  devices?: Record<string, number>;
  /** @defaultValue 1024 */
  pidsLimit?: number;
}

export interface StepSpec {
  /** Stable id of the execution; labels the container. */
  executionId: string;
  /** Attempt number; a fencing token for side effects. */
  attempt: number;
  image: string;
  /**
   * Commands run in order by `/bin/sh` with `set -e`: the first command that
   * fails ends the execution with its exit code.
   */
  commands: string[];
  env: Record<string, string>;
  /**
   * Names of `env` entries that hold secrets. A runtime that can keep them
   * out of what its engine shows (Docker with `secretsDelivery: 'files'`)
   * delivers them another way; the others pass them in `env` like the rest.
   */
  secretNames?: string[];
  /** Working directory inside the container. */
  workdir: string;
  mounts: BindMount[];
  /** No network unless the step asks (kiln's `network: true`). */
  network: boolean;
  resources: StepResources;
  /** Wall-clock limit, ms. */
  timeLimitMs?: number;
  /** Stop when nothing is printed for this long, ms. */
  noOutputTimeoutMs?: number;
  /** Between the stop signal and the kill, ms. @defaultValue 10000 */
  stopGraceMs?: number;
  /**
   * What the step may write, watched while it runs by runtimes that can
   * (Docker): over a limit the step is stopped with a `disk-limit` end.
   */
  diskLimits?: {
    /** Bytes written to the container's own filesystem (not the mounts). */
    rootfsBytes?: number;
    /** Bytes under a writable mount (the outputs folder), by host path. */
    outputs?: { hostPath: string; maxBytes: number };
  };
  /** Extra labels (repository, run id, worker…). */
  labels: Record<string, string>;
  /**
   * The step's Valohai `environment`: the Kubernetes runtime places the Pod
   * by it (operator's environments file); the others only record it.
   */
  environment?: string;
  /**
   * Container path → host path, for runtimes without containers
   * (`LocalRuntime`): the working directory and env values that are, or sit
   * under, a mapped container path are rewritten to the host path. The
   * Docker runtime ignores it (it mounts `mounts` instead).
   */
  localPaths?: Record<string, string>;
}

/**
 * Where a runtime delivers a step's output. The runtime calls `stdout` and
 * `stderr` with each chunk as it arrives, in order per stream, from its
 * stream callbacks (a throw is caught and the chunk dropped).
 *
 * Backpressure (optional, for sinks that store slower than a step can
 * print): after each chunk it delivered, the runtime calls `drained`.
 * `undefined` means go on reading; a promise means the sink holds too
 * much: the runtime stops reading the step's output (both streams; the
 * step then blocks on its full pipe) and reads on once every such promise
 * has settled (resolved or rejected alike). A held stream never blocks a
 * stop: time limits, stop requests and the engine's health are watched as
 * before, and once kiln stops the step its output is read on whatever the
 * sink says. Held time does not count as a quiet step (the no-output
 * limit). After the step's end the runtime waits for the rest of its
 * output for as long as the sink holds it, plus its usual bound. Runtimes
 * whose engine may drop a container's last output when it is not read
 * soon after the exit (Docker, Kubernetes) hold for 1 s at a time, then
 * read 256 KiB more (`ENGINE_MAX_HOLD_MS`, `ENGINE_HOLD_TRICKLE_BYTES`). The
 * sink must settle its promises in a bounded time.
 */
export interface OutputSink {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** Undefined when the sink takes more now, else settles once it does. */
  drained?(): Promise<void> | undefined;
}

/** Why the step ended; `infra-error` is never produced by a runtime. */
export type { EndReason } from '../model/end-reason.js';

export interface RunResult {
  reason: EndReason;
  /** Exit code when the process reported one. */
  exitCode: number | null;
  startedAt: Date;
  endedAt: Date;
  /** Said to the user about this run (the engine was away for a while). */
  notes?: string[];
}

export interface PreparedImage {
  /** The reference as written in the step. */
  image: string;
  /** Content digest actually used (`sha256:…`), null when unknown. */
  digest: string | null;
  /** Said to the user when the image is not what runs (local runtime). */
  note?: string;
}

export type RuntimeKind = 'docker' | 'kubernetes' | 'local';

export interface Runtime {
  readonly kind: RuntimeKind;
  /**
   * Whether steps read the execution's folders (repository, inputs,
   * outputs, config) from the worker's disk. A runtime that runs nothing
   * (the null runtime of the dispatch benchmarks) says false and the worker
   * prepares none. @defaultValue true
   */
  readonly workspace?: boolean;
  /** The image if the engine has it (no pull); null when it must be pulled. */
  findImage(image: string): Promise<PreparedImage | null>;
  /**
   * Uses an image present on the host, else pulls it; `signal` aborts a
   * pull (rejecting with the signal's reason). Idempotent.
   */
  prepareImage(image: string, signal?: AbortSignal): Promise<PreparedImage>;
  /** Runs one attempt; `signal` aborts it (reason `stopped`). */
  run(
    spec: StepSpec,
    sink: OutputSink,
    signal?: AbortSignal,
  ): Promise<RunResult>;
  /**
   * Removes the container (or process) of one execution if this engine has
   * it: called when a worker takes over a node whose previous attempt's
   * worker was lost, so one node never has two containers on an engine.
   * Idempotent. Optional: a runtime without leftovers needs none.
   */
  removeExecution?(executionId: string): Promise<void>;
  /**
   * Whether this engine has the container of a lost attempt that ran
   * (`running`, or `exited` while no worker watched it), or null. Cheap;
   * for the takeover's choice between adopting and running again.
   * Optional, like `adoptExecution`.
   */
  findExecution?(executionId: string): Promise<'running' | 'exited' | null>;
  /**
   * Takes over the container of a lost attempt instead of running the
   * step again (a deploy step must not run twice): follows it to its end
   * when it still runs (output from now on reaches `sink`; `spec`'s limits
   * apply, its time limit counted from the container's start), or reads
   * the end it already had. The container is removed afterwards. Resolves
   * null when there is no container to adopt; rejects like `run` for
   * infrastructure failures, and with `STOPPED_BY_ENGINE` when it ended by
   * a signal while no one watched (who sent it can't be known any more:
   * the step runs again).
   */
  adoptExecution?(
    executionId: string,
    spec: StepSpec,
    sink: OutputSink,
    signal?: AbortSignal,
  ): Promise<RunResult | null>;
  /**
   * Removes containers labelled by kiln whose execution id is not in `keep`.
   * Returns how many were removed. Idempotent.
   */
  reapOrphans(keep?: ReadonlySet<string>): Promise<number>;
  /** True when the engine answers (for `/readyz`). */
  ping(): Promise<boolean>;
}

export type RuntimeErrorCode =
  | 'ENGINE_UNREACHABLE'
  | 'IMAGE_UNAVAILABLE'
  | 'START_FAILED'
  /** `network: true` asked, and the host can't give an isolated network. */
  | 'NETWORK_UNAVAILABLE'
  /** No node could take the step for too long (Kubernetes). */
  | 'UNSCHEDULABLE'
  /** The step's Pod went away with its node, or was evicted (Kubernetes). */
  | 'POD_LOST'
  /**
   * The engine stopped the step's container itself (its daemon shutting
   * down, a `docker stop` from outside kiln): not the step's failure.
   */
  | 'STOPPED_BY_ENGINE'
  /** The step's container vanished from the engine while it ran. */
  | 'CONTAINER_LOST';

/** An infrastructure failure: retrying later may succeed. */
export class RuntimeError extends KilnError {
  readonly code: RuntimeErrorCode;
  constructor(code: RuntimeErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
