/**
 * `Runtime` on a Kubernetes cluster: one Pod per execution attempt, created
 * in a configured namespace through the API server (the only part of the
 * cluster kiln talks to), labelled so that a second start of the same
 * attempt replaces the first and a restarted worker finds what it left
 * behind. The Pod's contract is the Docker runtime's: the step's folders at
 * the same paths (copied through the API server, or mounted from the node),
 * output streamed live, the exit code and end reason read back, and the
 * writable folders (outputs) back in the worker's folders when `run`
 * settles, for the worker to collect into its artifact store.
 *
 * Cluster failures map to `RuntimeError`s the worker retries: a Pod no node
 * takes (UNSCHEDULABLE), an image the cluster cannot pull
 * (IMAGE_UNAVAILABLE), a Pod lost with its node or evicted (POD_LOST), an
 * API server that stops answering (ENGINE_UNREACHABLE).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod, V1Secret } from '@kubernetes/client-node';
import { parseImageReference } from '../docker/parse-image-reference.js';
import { RuntimeError } from '../runtime.js';
import { answersWithin, stoppedBeforeStart } from '../forward-output.js';
import type {
  OutputSink,
  PreparedImage,
  RunResult,
  Runtime,
  StepSpec,
} from '../runtime.js';
import {
  EXECUTION_ANNOTATION,
  POD_LABELS,
  buildPod,
  type FileMode,
} from './build-pod.js';
import {
  describeKubeError,
  getKubeStatusCode,
  isKubeUnreachableError,
} from './describe-kube-error.js';
import { pickPlacement, type Environments } from './load-environments.js';
import { runPod, type RuntimeLogger } from './run-pod.js';
import { toLabelValue } from './to-pod-name.js';
import { toPodJson } from './watch-pod.js';

export type { RuntimeLogger } from './run-pod.js';

export interface KubernetesRuntimeOptions {
  kubeConfig: KubeConfig;
  /** @defaultValue the kubeconfig context's namespace, else 'default' */
  namespace?: string;
  /**
   * Labels this worker's Pods; `reapOrphans` then only touches Pods with
   * the same id (see DockerRuntimeOptions.workerId).
   */
  workerId?: string;
  /** @defaultValue 'copy' */
  files?: FileMode;
  /** @defaultValue 'busybox:1.36' */
  helperImage?: string;
  environments?: Environments;
  /** `host-path`: the node the worker runs on, where its folders are. */
  nodeName?: string;
  imagePullSecrets?: readonly string[];
  /** @defaultValue 600000 */
  unschedulableTimeoutMs?: number;
  /** @defaultValue 60000 */
  imagePullGraceMs?: number;
  /** @defaultValue 120000 */
  unreachableTimeoutMs?: number;
  logger?: RuntimeLogger;
}

const PING_TIMEOUT_MS = 5_000;
export const DEFAULT_HELPER_IMAGE = 'busybox:1.36';

export class KubernetesRuntime implements Runtime {
  readonly kind = 'kubernetes' as const;
  readonly namespace: string;
  readonly #kubeConfig: KubeConfig;
  readonly #core: CoreV1Api;
  readonly #workerId: string;
  readonly #reapOnlyOwn: boolean;
  readonly #options: KubernetesRuntimeOptions;

  constructor(options: KubernetesRuntimeOptions) {
    this.#options = options;
    this.#kubeConfig = options.kubeConfig;
    this.#core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.namespace =
      options.namespace ??
      options.kubeConfig.getContextObject(options.kubeConfig.currentContext)
        ?.namespace ??
      'default';
    this.#workerId = options.workerId ?? hostname();
    this.#reapOnlyOwn = options.workerId !== undefined;
  }

  /**
   * The cluster's nodes pull images themselves, so nothing is ever missing
   * here: only the reference is checked (the digest is not known).
   */
  async findImage(image: string): Promise<PreparedImage | null> {
    checkImageReference(image);
    return { image, digest: null };
  }

  async prepareImage(image: string): Promise<PreparedImage> {
    checkImageReference(image);
    return { image, digest: null };
  }

  async run(
    spec: StepSpec,
    sink: OutputSink,
    signal?: AbortSignal,
  ): Promise<RunResult> {
    checkImageReference(spec.image);
    const placement = pickPlacement(
      this.#options.environments,
      spec.environment,
    );
    if (!placement.ok) {
      throw new RuntimeError(
        'START_FAILED',
        `cannot run execution ${JSON.stringify(spec.executionId)}: ${placement.problem}`,
      );
    }
    const built = buildPod({
      spec,
      namespace: this.namespace,
      workerId: this.#workerId,
      files: this.#options.files ?? 'copy',
      helperImage: this.#options.helperImage ?? DEFAULT_HELPER_IMAGE,
      placement: placement.placement,
      nodeName: this.#options.nodeName,
      imagePullSecrets: this.#options.imagePullSecrets,
      nameSuffix: randomBytes(3).toString('hex'),
    });
    if (!built.ok) {
      throw new RuntimeError(
        'START_FAILED',
        `cannot run execution ${JSON.stringify(spec.executionId)}: ${built.problem}`,
      );
    }
    if (signal?.aborted) return stoppedBeforeStart();

    const secretName = built.secret?.metadata?.name;
    try {
      await this.#removeLeftovers(spec);
      if (built.secret !== null) {
        await this.#call('create the Secret', spec, () =>
          this.#core.createNamespacedSecret({
            namespace: this.namespace,
            body: built.secret!.toJSON() as V1Secret,
          }),
        );
      }
      const created = await this.#call('create the Pod', spec, () =>
        this.#core.createNamespacedPod({
          namespace: this.namespace,
          body: built.pod as V1Pod,
        }),
      );
      if (secretName !== undefined) {
        await this.#ownSecret(secretName, created, spec);
      }
      return await runPod({
        kubeConfig: this.#kubeConfig,
        core: this.#core,
        namespace: this.namespace,
        name: built.name,
        created: toPodJson(created),
        spec,
        files: this.#options.files ?? 'copy',
        sink,
        signal,
        logger: this.#options.logger,
        unschedulableTimeoutMs: this.#options.unschedulableTimeoutMs ?? 600_000,
        imagePullGraceMs: this.#options.imagePullGraceMs ?? 60_000,
        unreachableTimeoutMs: this.#options.unreachableTimeoutMs ?? 120_000,
      });
    } finally {
      await this.#remove('Pod', built.name, spec).catch((error: unknown) =>
        this.#options.logger?.warn(
          { executionId: spec.executionId, reason: describeKubeError(error) },
          'could not delete a step Pod; the reaper will',
        ),
      );
      if (secretName !== undefined) {
        await this.#remove('Secret', secretName, spec).catch((error: unknown) =>
          this.#options.logger?.warn(
            {
              executionId: spec.executionId,
              reason: describeKubeError(error),
            },
            'could not delete a step Secret; the reaper will',
          ),
        );
      }
    }
  }

  async reapOrphans(keep: ReadonlySet<string> = new Set()): Promise<number> {
    const labelSelector = [`${POD_LABELS.managed}=true`];
    if (this.#reapOnlyOwn) {
      labelSelector.push(
        `${POD_LABELS.worker}=${toLabelValue(this.#workerId)}`,
      );
    }
    const spec = { executionId: '(reaper)' };
    const selector = labelSelector.join(',');
    let removed = 0;
    const pods = await this.#call('list the Pods', spec, () =>
      this.#core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: selector,
      }),
    );
    for (const pod of pods.items) {
      const executionId = pod.metadata?.annotations?.[EXECUTION_ANNOTATION];
      if (executionId !== undefined && keep.has(executionId)) continue;
      if (await this.#remove('Pod', pod.metadata!.name!, spec)) removed += 1;
    }
    const secrets = await this.#call('list the Secrets', spec, () =>
      this.#core.listNamespacedSecret({
        namespace: this.namespace,
        labelSelector: selector,
      }),
    );
    for (const secret of secrets.items) {
      const executionId = secret.metadata?.annotations?.[EXECUTION_ANNOTATION];
      if (executionId !== undefined && keep.has(executionId)) continue;
      await this.#remove('Secret', secret.metadata!.name!, spec);
    }
    return removed;
  }

  /**
   * What would stop every step in this namespace, checked once when a
   * worker starts: the namespace missing, or no right to create Pods or
   * Secrets there. A server-side dry run (nothing is created; a Pod list,
   * as `ping` does, succeeds on a namespace that does not exist). Resolves
   * with the problem, or null when there is none.
   */
  async checkNamespace(): Promise<string | null> {
    const metadata = { generateName: 'kiln-check-' };
    const checks: Array<[string, () => Promise<unknown>]> = [
      [
        'Pods',
        () =>
          this.#core.createNamespacedPod({
            namespace: this.namespace,
            dryRun: 'All',
            body: {
              metadata,
              spec: { containers: [{ name: 'check', image: 'kiln-check' }] },
            },
          }),
      ],
      [
        'Secrets',
        () =>
          this.#core.createNamespacedSecret({
            namespace: this.namespace,
            dryRun: 'All',
            body: { metadata },
          }),
      ],
    ];
    for (const [kind, check] of checks) {
      try {
        await check();
      } catch (error) {
        const status = getKubeStatusCode(error);
        const detail = describeKubeError(error);
        if (status === 404) {
          return `namespace ${this.namespace} does not exist (${detail}): create it (kubectl create namespace ${this.namespace}) or set KILN_KUBERNETES_NAMESPACE`;
        }
        if (status === 403) {
          return `kiln may not create ${kind} in namespace ${this.namespace} (${detail}): check the worker's Role (deploy/kubernetes/worker-rbac.yaml) and the namespace's admission policy`;
        }
        return `a trial creation of ${kind} in namespace ${this.namespace} failed: ${detail}`;
      }
    }
    return null;
  }

  async ping(): Promise<boolean> {
    return answersWithin(
      this.#core.listNamespacedPod({ namespace: this.namespace, limit: 1 }),
      PING_TIMEOUT_MS,
    );
  }

  /**
   * Deletes the Pod and Secret of an execution, whichever worker made
   * them: a worker that takes over a node whose worker was lost calls it
   * for the lost attempt before starting its own, so one node never has
   * two Pods. Deletion is immediate (grace 0: the lost attempt's outputs
   * are not wanted). Idempotent.
   */
  async removeExecution(executionId: string): Promise<void> {
    await this.#removeObjectsOf({ executionId });
  }

  /**
   * Never two Pods for one attempt: a leftover of the same attempt (a
   * crashed worker's, found by its labels and exact annotation) is deleted
   * before the new Pod is created. The new Pod has a name of its own: the
   * kubelet finds containers for attach and exec by Pod name, and would
   * reach the leftover's while it is still being killed.
   */
  async #removeLeftovers(spec: StepSpec): Promise<void> {
    await this.#removeObjectsOf(spec);
  }

  /** The Pods and Secrets of an execution (of one attempt, if given). */
  async #removeObjectsOf(spec: {
    executionId: string;
    attempt?: number;
  }): Promise<void> {
    const labelSelector = [
      `${POD_LABELS.managed}=true`,
      `${POD_LABELS.execution}=${toLabelValue(spec.executionId)}`,
      ...(spec.attempt === undefined
        ? []
        : [`${POD_LABELS.attempt}=${spec.attempt}`]),
    ].join(',');
    const request = { namespace: this.namespace, labelSelector };
    const pods = await this.#call('list the Pods', spec, () =>
      this.#core.listNamespacedPod(request),
    );
    const secrets = await this.#call('list the Secrets', spec, () =>
      this.#core.listNamespacedSecret(request),
    );
    const leftovers = [
      ...pods.items.map((item) => ({ kind: 'Pod' as const, item })),
      ...secrets.items.map((item) => ({ kind: 'Secret' as const, item })),
    ].filter(
      ({ item }) =>
        item.metadata?.annotations?.[EXECUTION_ANNOTATION] === spec.executionId,
    );
    for (const { kind, item } of leftovers) {
      this.#options.logger?.warn(
        { executionId: spec.executionId, name: item.metadata?.name },
        `removing a leftover ${kind} of execution ${spec.executionId}`,
      );
      await this.#remove(kind, item.metadata!.name!, spec);
    }
  }

  /** The env Secret goes when its Pod goes, even if no worker is left. */
  async #ownSecret(
    secretName: string,
    pod: V1Pod,
    spec: Pick<StepSpec, 'executionId'>,
  ): Promise<void> {
    try {
      await this.#core.patchNamespacedSecret({
        namespace: this.namespace,
        name: secretName,
        body: [
          {
            op: 'add',
            path: '/metadata/ownerReferences',
            value: [
              {
                apiVersion: 'v1',
                kind: 'Pod',
                name: pod.metadata!.name!,
                uid: pod.metadata!.uid!,
              },
            ],
          },
        ],
      });
    } catch (error) {
      // Only the cluster's garbage collection depends on it; kiln deletes
      // the Secret itself (and the reaper does, by label).
      this.#options.logger?.debug(
        { executionId: spec.executionId, reason: describeKubeError(error) },
        'could not set the owner of a step Secret',
      );
    }
  }

  /** Deletes at once (grace 0); false when it was gone already. */
  async #remove(
    kind: 'Pod' | 'Secret',
    name: string,
    spec: Pick<StepSpec, 'executionId'>,
  ): Promise<boolean> {
    try {
      await this.#call(`delete the ${kind}`, spec, async () => {
        const request = {
          namespace: this.namespace,
          name,
          gracePeriodSeconds: 0,
        };
        if (kind === 'Pod') await this.#core.deleteNamespacedPod(request);
        else await this.#core.deleteNamespacedSecret(request);
      });
      return true;
    } catch (error) {
      if (getKubeStatusCode((error as { cause?: unknown }).cause) === 404) {
        return false;
      }
      throw error;
    }
  }

  /** One API call, its failure turned into a `RuntimeError`. */
  async #call<T>(
    action: string,
    spec: Pick<StepSpec, 'executionId'>,
    call: () => Promise<T>,
  ): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const detail = describeKubeError(error);
      // The client's error (response headers, body) is kept as the cause
      // for status checks; it never holds the request's credentials.
      const cause = { code: getKubeStatusCode(error), body: detail };
      if (isKubeUnreachableError(error)) {
        throw new RuntimeError(
          'ENGINE_UNREACHABLE',
          `the Kubernetes API server did not answer when asked to ${action} of execution ${spec.executionId}: ${detail} — check the cluster and kiln's access to it (KUBECONFIG)`,
          { cause },
        );
      }
      throw new RuntimeError(
        'START_FAILED',
        `Kubernetes could not ${action} of execution ${spec.executionId} in namespace ${this.namespace}: ${detail}`,
        { cause },
      );
    }
  }
}

function checkImageReference(image: string): void {
  const parsed = parseImageReference(image);
  if (!parsed.ok) {
    throw new RuntimeError(
      'IMAGE_UNAVAILABLE',
      `invalid image reference ${JSON.stringify(image)}: ${parsed.problem} — write it as [registry/]name[:tag][@digest]`,
    );
  }
}
