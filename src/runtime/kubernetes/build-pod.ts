/**
 * Turns a `StepSpec` into the Pod (and the Secret holding its environment)
 * that runs one attempt, with the Docker runtime's isolation defaults. Pure:
 * the same spec (and name suffix) gives the same objects, so labels are a
 * reliable handle for the reaper and for replacing a crashed worker's
 * leftover.
 *
 * Choices worth knowing:
 * - Files (`files`): `copy` puts the step's folders in an emptyDir — an init
 *   container unpacks what the runtime streams in through the API server,
 *   and a `kiln-files-out` sidecar stays up so the runtime can stream the
 *   writable folders (outputs) back after the step exited. `host-path` mounts
 *   the worker's folders from the node instead (same machine, or the same
 *   shared filesystem on every node), optionally pinned to `nodeName`.
 * - The environment (secrets included) goes in a Secret, referenced key by
 *   key, so it is not in the Pod spec that anyone who may list Pods reads.
 * - Network: a Pod always has the cluster's Pod network; kiln labels it
 *   `kiln.network=none` (or `allowed` for `network: true`) so a
 *   NetworkPolicy can cut it (deploy/kubernetes has one). Never hostNetwork.
 * - Hardening: no privilege escalation, all capabilities dropped, the
 *   runtime's default seccomp profile, no service-account token, no service
 *   links; the image's user is kept (non-root when the image says so).
 * - Limits: cpu and memory become requests = limits (the scheduler places
 *   the Pod by them); devices (`nvidia.com/gpu`…) become extended-resource
 *   limits. The pids and open-files limits of the Docker runtime are node
 *   settings on Kubernetes (the kubelet's podPidsLimit), not per Pod.
 * - Time limit: `activeDeadlineSeconds` = the limit plus `startAllowance`
 *   (image pull, copy-in count toward a Pod's deadline); the runtime lowers
 *   it once the step starts. kiln stops the step at its limit itself (so it
 *   can still take its outputs); the deadline is the cluster's backstop for
 *   a worker that died.
 */
import { Pod, Secret } from 'kubernetes-models/v1';
import type { IPod, IContainer, IVolumeMount } from 'kubernetes-models/v1';
import type { StepSpec } from '../runtime.js';
import { findStepSpecProblem } from '../check-step-spec.js';
import { buildPodCommand } from './build-pod-command.js';
import type { Placement } from './load-environments.js';
import {
  isLabelKey,
  isLabelValue,
  toLabelValue,
  toPodName,
} from './to-pod-name.js';

export const POD_LABELS = {
  managed: 'kiln.managed',
  execution: 'kiln.execution',
  attempt: 'kiln.attempt',
  worker: 'kiln.worker',
  network: 'kiln.network',
} as const;

/** Holds the exact execution id (label values are limited). */
export const EXECUTION_ANNOTATION = 'kiln.execution';

export const POD_CONTAINERS = {
  step: 'step',
  filesIn: 'kiln-files-in',
  filesOut: 'kiln-files-out',
} as const;

/** Where the helper containers see the Pod's shared folder. */
export const FILES_ROOT = '/kiln';
/** The last entry of the input archive; its absence means a cut stream. */
export const INPUT_COMPLETE_MARKER = '.kiln-in-complete';

export type FileMode = 'copy' | 'host-path';

export interface BuildPodOptions {
  spec: StepSpec;
  namespace: string;
  workerId: string;
  files: FileMode;
  /** Image of the helper containers (`copy`): needs sh, tar, sleep, test. */
  helperImage: string;
  placement?: Placement;
  /** `host-path`: run on this node (the worker's own). */
  nodeName?: string;
  imagePullSecrets?: readonly string[];
  /** @defaultValue 3600 */
  startAllowanceSeconds?: number;
  /**
   * Appended to the attempt's name, so a replaced leftover never shares a
   * name with its successor (see KubernetesRuntime).
   */
  nameSuffix?: string;
}

export interface BuiltPod {
  name: string;
  pod: IPod;
  /** The environment, or null when the step has none. */
  secret: Secret | null;
}

export type BuildPodResult =
  ({ ok: true } & BuiltPod) | { ok: false; problem: string };

const FILES_VOLUME = 'kiln-files';
const DEFAULT_STOP_GRACE_MS = 10_000;
const DEFAULT_START_ALLOWANCE_S = 3600;
// What the API server of 1.20 accepts as an environment variable name.
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const RESOURCE_NAME =
  /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
// Helpers ask little of the scheduler but may use a core while copying.
const HELPER_RESOURCES = {
  requests: { cpu: '50m', memory: '32Mi' },
  limits: { cpu: '1', memory: '128Mi' },
};
const HARDENED = {
  allowPrivilegeEscalation: false,
  privileged: false,
  capabilities: { drop: ['ALL'] },
};

export function buildPod(options: BuildPodOptions): BuildPodResult {
  const { spec } = options;
  const problem = findStepSpecProblem(spec, {
    pattern: ENV_NAME,
    rule: 'on Kubernetes: letters, digits, "_", "-", "."; not starting with a digit',
  });
  if (problem !== null) return { ok: false, problem };
  const resources = toResources(spec);
  if (!resources.ok) return resources;

  const name =
    options.nameSuffix === undefined
      ? toPodName(spec)
      : `${toPodName(spec)}-${options.nameSuffix}`;
  const labels = buildLabels(spec, options.workerId);
  const annotations = { [EXECUTION_ANNOTATION]: spec.executionId };
  const envNames = Object.keys(spec.env);
  const secretName = `${name}-env`;
  const secret =
    envNames.length === 0
      ? null
      : new Secret({
          metadata: {
            name: secretName,
            namespace: options.namespace,
            labels,
            annotations,
          },
          type: 'Opaque',
          // Keys by position: any variable name is allowed in `env`, not as
          // a Secret key.
          stringData: Object.fromEntries(
            envNames.map((envName, index) => [`e${index}`, spec.env[envName]!]),
          ),
        });

  const copy = options.files === 'copy';
  const writable = spec.mounts
    .map((mount, index) => ({ mount, index }))
    .filter(({ mount }) => !mount.readOnly);
  const step: IContainer = {
    name: POD_CONTAINERS.step,
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: buildPodCommand(spec.commands),
    workingDir: spec.workdir,
    env: envNames.map((envName, index) => ({
      name: envName,
      valueFrom: { secretKeyRef: { name: secretName, key: `e${index}` } },
    })),
    stdin: true,
    stdinOnce: true,
    tty: false,
    resources: resources.value,
    securityContext: HARDENED,
    volumeMounts: spec.mounts.map((mount, index): IVolumeMount =>
      copy
        ? {
            name: FILES_VOLUME,
            mountPath: mount.containerPath,
            subPath: `m${index}`,
            readOnly: mount.readOnly,
          }
        : {
            name: `m${index}`,
            mountPath: mount.containerPath,
            readOnly: mount.readOnly,
          },
    ),
  };

  const helperBase = {
    image: options.helperImage,
    imagePullPolicy: 'IfNotPresent' as const,
    resources: HELPER_RESOURCES,
    volumeMounts: [{ name: FILES_VOLUME, mountPath: FILES_ROOT }],
  };
  const initContainers: IContainer[] =
    copy && spec.mounts.length > 0
      ? [
          {
            ...helperBase,
            name: POD_CONTAINERS.filesIn,
            // Unpacks what the runtime writes to stdin; the marker is the
            // archive's last entry, so a cut stream fails the Pod's start.
            command: [
              'sh',
              '-c',
              `tar -x -o -f - -C ${FILES_ROOT} && test -e ${FILES_ROOT}/${INPUT_COMPLETE_MARKER} && rm -f ${FILES_ROOT}/${INPUT_COMPLETE_MARKER}`,
            ],
            stdin: true,
            stdinOnce: true,
            securityContext: { ...HARDENED, runAsUser: 0, runAsNonRoot: false },
          },
        ]
      : [];
  const sidecars: IContainer[] =
    copy && writable.length > 0
      ? [
          {
            ...helperBase,
            name: POD_CONTAINERS.filesOut,
            command: [
              'sh',
              '-c',
              'trap "exit 0" TERM; while :; do sleep 1; done',
            ],
            // Root that may read files of any owner (the step may run as
            // another user and leave 0600 outputs). DAC_OVERRIDE rather than
            // the narrower DAC_READ_SEARCH: the Pod Security "baseline"
            // level allows the former only. The sidecar runs only tar.
            securityContext: {
              ...HARDENED,
              capabilities: { drop: ['ALL'], add: ['DAC_OVERRIDE'] },
              runAsUser: 0,
              runAsNonRoot: false,
            },
          },
        ]
      : [];

  const placement = options.placement ?? {};
  const pod: IPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: options.namespace, labels, annotations },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: Math.max(
        1,
        Math.ceil((spec.stopGraceMs ?? DEFAULT_STOP_GRACE_MS) / 1000),
      ),
      ...(spec.timeLimitMs === undefined
        ? {}
        : {
            activeDeadlineSeconds:
              Math.ceil(spec.timeLimitMs / 1000) +
              (options.startAllowanceSeconds ?? DEFAULT_START_ALLOWANCE_S),
          }),
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      ...(placement.nodeSelector === undefined
        ? {}
        : { nodeSelector: placement.nodeSelector }),
      ...(placement.tolerations === undefined
        ? {}
        : { tolerations: placement.tolerations }),
      ...buildAffinity(placement.affinity, options.nodeName),
      ...(options.imagePullSecrets?.length
        ? {
            imagePullSecrets: options.imagePullSecrets.map((secretRef) => ({
              name: secretRef,
            })),
          }
        : {}),
      initContainers,
      containers: [step, ...sidecars],
      volumes: copy
        ? [{ name: FILES_VOLUME, emptyDir: {} }]
        : spec.mounts.map((mount, index) => ({
            name: `m${index}`,
            hostPath: { path: mount.hostPath, type: 'Directory' },
          })),
    },
  };
  try {
    new Pod(pod).validate();
    secret?.validate();
  } catch (error) {
    return {
      ok: false,
      problem: `the Pod for it is not valid: ${(error as Error).message}`,
    };
  }
  return { ok: true, name, pod, secret };
}

function buildLabels(spec: StepSpec, workerId: string): Record<string, string> {
  const labels: Record<string, string> = {};
  // A step's labels that Kubernetes would refuse are left out (they are
  // kiln's own run and node ids today, always valid).
  for (const [key, value] of Object.entries(spec.labels)) {
    if (isLabelKey(key) && isLabelValue(value)) labels[key] = value;
  }
  // kiln's own labels last: a step's labels never hide the reaper's handles.
  return {
    ...labels,
    [POD_LABELS.managed]: 'true',
    [POD_LABELS.execution]: toLabelValue(spec.executionId),
    [POD_LABELS.attempt]: String(spec.attempt),
    [POD_LABELS.worker]: toLabelValue(workerId),
    [POD_LABELS.network]: spec.network ? 'allowed' : 'none',
  };
}

/** The operator's affinity, narrowed to one node when asked. */
function buildAffinity(
  affinity: Record<string, unknown> | undefined,
  nodeName: string | undefined,
): { affinity?: Record<string, unknown> } {
  if (nodeName === undefined) {
    return affinity === undefined ? {} : { affinity };
  }
  const onNode = { key: 'metadata.name', operator: 'In', values: [nodeName] };
  const base = structuredClone(affinity ?? {}) as {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: {
        nodeSelectorTerms?: { matchFields?: unknown[] }[];
      };
    };
  };
  const required = ((base.nodeAffinity ??=
    {}).requiredDuringSchedulingIgnoredDuringExecution ??= {});
  const terms = required.nodeSelectorTerms?.length
    ? required.nodeSelectorTerms
    : [{}];
  // Terms are ORed: the node must be added to each of them.
  required.nodeSelectorTerms = terms.map((term) => ({
    ...term,
    matchFields: [...(term.matchFields ?? []), onNode],
  }));
  return { affinity: base };
}

function toResources(
  spec: StepSpec,
):
  | { ok: true; value: IContainer['resources'] }
  | { ok: false; problem: string } {
  const amounts: Record<string, string> = {};
  const extended: Record<string, string> = {};
  const { cpus, memoryBytes, devices } = spec.resources;
  if (cpus !== undefined) {
    amounts.cpu = `${Math.max(1, Math.round(cpus * 1000))}m`;
  }
  if (memoryBytes !== undefined) amounts.memory = String(memoryBytes);
  for (const [device, count] of Object.entries(devices ?? {})) {
    if (!RESOURCE_NAME.test(device)) {
      return {
        ok: false,
        problem: `device "${device}" is not a Kubernetes extended resource name (like nvidia.com/gpu)`,
      };
    }
    if (!(Number.isSafeInteger(count) && count >= 0)) {
      return { ok: false, problem: `${device} count ${count} is not valid` };
    }
    if (count > 0) extended[device] = String(count);
  }
  const limits = { ...amounts, ...extended };
  if (Object.keys(limits).length === 0) return { ok: true, value: {} };
  return {
    ok: true,
    value: {
      limits,
      // Extended resources get requests = limits from the API server.
      ...(Object.keys(amounts).length === 0 ? {} : { requests: amounts }),
    },
  };
}
