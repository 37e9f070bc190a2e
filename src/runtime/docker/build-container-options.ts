/**
 * Turns a `StepSpec` into the Engine API's container-create body, with
 * kiln's isolation defaults (reliability plan §4.1). Pure: the same spec
 * gives the same body, which is what makes container names and labels a
 * reliable handle for orphan reaping.
 *
 * Choices worth knowing:
 * - Network: `none`, or, when the step sets `network: true`, the network
 *   the runtime prepared (`network`): kiln's isolated step network with its
 *   own resolv.conf (step-network.ts), or `host` only when the operator
 *   opted into that unsafe mode. Without a prepared network a `network:
 *   true` spec is refused, never given the host's.
 * - Entrypoint: reset to `[]`, so `Cmd` (`/bin/sh -c script`) is what runs.
 *   Keeping the image's entrypoint would turn `ENTRYPOINT ["python"]` into
 *   `python /bin/sh -c …`; the cost is that wrapper entrypoints (CUDA
 *   images' env setup) are skipped, as with Valohai's `command` semantics.
 * - Logs: `LogConfig: none`. kiln attaches before start and streams every
 *   byte to its sink; an engine-side json-file copy would write the same
 *   output to the host disk a second time, unbounded unless capped.
 * - Root filesystem stays writable (steps `pip install` at run time); the
 *   repository and inputs come in as read-only mounts instead.
 * - Secrets: in `Env` by default; with `secretsHostPath` (operator's
 *   `files` delivery) in a read-only mount instead, exported by the script,
 *   so `docker inspect` shows no value.
 * - No `AutoRemove`: the runtime reads the exit state (OOMKilled, exit code)
 *   after exit, then removes the container itself.
 */
import type Dockerode from 'dockerode';
import { buildStepScript } from '../build-step-script.js';
import type { StepSpec } from '../runtime.js';
import { findStepSpecProblem } from '../check-step-spec.js';
import {
  SECRETS_CONTAINER_PATH,
  buildSecretExports,
} from './build-secret-exports.js';

export const KILN_LABELS = {
  managed: 'kiln.managed',
  execution: 'kiln.execution',
  attempt: 'kiln.attempt',
  worker: 'kiln.worker',
} as const;

export const DEFAULT_PIDS_LIMIT = 1024;
/**
 * Open files per process: generous for data loaders, finite for leaks. It
 * must not exceed the engine's own hard limit (runc cannot raise it without
 * CAP_SYS_RESOURCE; Debian's dockerd here runs with 20000), hence below
 * 20000 by default and configurable.
 */
export const DEFAULT_NOFILE_LIMIT = 16_384;
const GPU_DEVICE = 'nvidia.com/gpu';
// Docker container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*; kiln adds a prefix.
// Anything but `=` and NUL: the engine splits `Env` entries on the first `=`.
const ENV_NAME = /^[^=\0]+$/;

/** Where a `network: true` step's container goes. */
export interface ContainerNetwork {
  /** `NetworkMode`: kiln's step network's name, or `host` (unsafe). */
  mode: string;
  /** Mounted read-only at /etc/resolv.conf when given. */
  resolvConfPath?: string;
}

export interface BuildContainerOptionsOptions {
  spec: StepSpec;
  workerId: string;
  /** Required when `spec.network`; ignored otherwise. */
  network?: ContainerNetwork;
  /** @defaultValue DEFAULT_NOFILE_LIMIT */
  nofileLimit?: number;
  /**
   * `files` secret delivery: the host folder write-secret-files.ts made for
   * this container. The spec's `secretNames` then stay out of `Env`; the
   * folder is mounted read-only at SECRETS_CONTAINER_PATH and the script
   * exports them first.
   */
  secretsHostPath?: string;
}

export type BuildContainerOptionsResult =
  | { ok: true; options: Dockerode.ContainerCreateOptions }
  | { ok: false; problem: string };

/** The deterministic name of an attempt's container. */
export function toContainerName(spec: {
  executionId: string;
  attempt: number;
}): string {
  return `kiln-${spec.executionId}-${spec.attempt}`;
}

export function buildContainerOptions(
  options: BuildContainerOptionsOptions,
): BuildContainerOptionsResult {
  const { spec, workerId } = options;
  const nofile = options.nofileLimit ?? DEFAULT_NOFILE_LIMIT;
  const problem = findStepSpecProblem(spec, {
    pattern: ENV_NAME,
    rule: 'it must be non-empty, without "=" or NUL',
  });
  if (problem !== null) return { ok: false, problem };
  const network = spec.network ? options.network : { mode: 'none' };
  if (network === undefined) {
    return {
      ok: false,
      problem: 'the step asks for network: true but no network was prepared',
    };
  }
  const secretNames = new Set(
    options.secretsHostPath === undefined
      ? []
      : (spec.secretNames ?? []).filter((name) =>
          Object.hasOwn(spec.env, name),
        ),
  );
  const exports = buildSecretExports([...secretNames]);
  if (!exports.ok) return exports;
  const mounts = spec.mounts.map((mount) => ({
    Type: 'bind' as const,
    Source: mount.hostPath,
    Target: mount.containerPath,
    ReadOnly: mount.readOnly,
  }));
  if (network.resolvConfPath !== undefined) {
    mounts.push({
      Type: 'bind',
      Source: network.resolvConfPath,
      Target: '/etc/resolv.conf',
      ReadOnly: true,
    });
  }

  if (options.secretsHostPath !== undefined) {
    mounts.push({
      Type: 'bind',
      Source: options.secretsHostPath,
      Target: SECRETS_CONTAINER_PATH,
      ReadOnly: true,
    });
  }

  const devices = toDeviceRequests(spec.resources.devices ?? {});
  if (!devices.ok) return devices;

  const memory = spec.resources.memoryBytes;
  const hostConfig: Dockerode.HostConfig = {
    NetworkMode: network.mode,
    Mounts: mounts,
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    Privileged: false,
    PidsLimit: spec.resources.pidsLimit ?? DEFAULT_PIDS_LIMIT,
    Init: true,
    AutoRemove: false,
    LogConfig: { Type: 'none', Config: {} },
    Ulimits: [{ Name: 'nofile', Soft: nofile, Hard: nofile }],
    ...(memory === undefined ? {} : { Memory: memory, MemorySwap: memory }),
    ...(spec.resources.cpus === undefined
      ? {}
      : { NanoCpus: Math.round(spec.resources.cpus * 1e9) }),
    ...(devices.requests.length === 0
      ? {}
      : { DeviceRequests: devices.requests }),
  };

  return {
    ok: true,
    options: {
      name: toContainerName(spec),
      Image: spec.image,
      Entrypoint: [],
      Cmd: [
        '/bin/sh',
        '-c',
        buildStepScript([...exports.lines, ...spec.commands]),
      ],
      WorkingDir: spec.workdir,
      Env: [
        ...Object.entries(spec.env)
          .filter(([name]) => !secretNames.has(name))
          .map(([name, value]) => `${name}=${value}`),
        // Docker's init (tini) forwards a stop signal to its child only: the
        // `sh` running the script, which dies without passing it on, so the
        // user's program would go straight to SIGKILL. Signalling the whole
        // process group gives it the grace period to save its work.
        'TINI_KILL_PROCESS_GROUP=1',
      ],
      // kiln's own labels last: a step's labels never hide the handles the
      // reaper relies on.
      Labels: {
        ...spec.labels,
        [KILN_LABELS.managed]: 'true',
        [KILN_LABELS.execution]: spec.executionId,
        [KILN_LABELS.attempt]: String(spec.attempt),
        [KILN_LABELS.worker]: workerId,
      },
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      OpenStdin: false,
      HostConfig: hostConfig,
    },
  };
}

function toDeviceRequests(
  devices: Record<string, number>,
):
  | { ok: true; requests: Dockerode.DeviceRequest[] }
  | { ok: false; problem: string } {
  const requests: Dockerode.DeviceRequest[] = [];
  for (const [device, count] of Object.entries(devices)) {
    if (device !== GPU_DEVICE) {
      return {
        ok: false,
        problem: `device "${device}" is not supported by the Docker runtime (only ${GPU_DEVICE})`,
      };
    }
    if (!(Number.isSafeInteger(count) && count >= 0)) {
      return { ok: false, problem: `${device} count ${count} is not valid` };
    }
    if (count > 0) {
      requests.push({
        Driver: 'nvidia',
        Count: count,
        Capabilities: [['gpu']],
      });
    }
  }
  return { ok: true, requests };
}
