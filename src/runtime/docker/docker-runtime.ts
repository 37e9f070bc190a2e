/**
 * `Runtime` on a Docker engine through the Engine API (dockerode): one
 * hardened container per execution attempt, named and labelled so that a
 * second start of the same attempt replaces the first and a restarted
 * worker can find what it left behind.
 */
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
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
  KILN_LABELS,
  buildContainerOptions,
  toContainerName,
} from './build-container-options.js';
import type { ContainerNetwork } from './build-container-options.js';
import {
  describeDockerError,
  getDockerStatusCode,
  isEngineUnreachableError,
} from './describe-docker-error.js';
import { parseImageReference } from './parse-image-reference.js';
import type { ImageReference } from './parse-image-reference.js';
import { pullImage } from './pull-image.js';
import type { RegistryCredentials } from './pull-image.js';
import {
  adoptRunningContainer,
  callEngine,
  readEnd,
  runContainer,
} from './run-container.js';
import type { RuntimeLogger } from './run-container.js';
import { selectStepNetwork } from './select-step-network.js';
import {
  listSecretFolders,
  prepareSecretsBase,
  removeSecretFiles,
  writeSecretFiles,
} from './write-secret-files.js';
import type {
  SelectedStepNetwork,
  StepNetworkSetting,
} from './select-step-network.js';

export type { RegistryCredentials } from './pull-image.js';
export type { RuntimeLogger } from './run-container.js';
export type { StepNetworkSetting } from './select-step-network.js';

export interface DockerRuntimeOptions {
  /** A ready client; wins over `socketPath`. */
  docker?: Dockerode;
  /** @defaultValue DOCKER_HOST when set, else '/var/run/docker.sock' */
  socketPath?: string;
  /**
   * Labels this worker's containers. When given, `reapOrphans` only touches
   * containers with the same id, so workers sharing an engine leave each
   * other alone; use a stable id (e.g. the host name) so a restarted worker
   * reaps its own leftovers. When absent, containers are labelled with the
   * host name and `reapOrphans` considers every kiln container.
   */
  workerId?: string;
  /** Pull credentials by registry host (`docker.io`, `ghcr.io:443`…). */
  registryAuth?: Record<string, RegistryCredentials>;
  logger?: RuntimeLogger;
  /** @defaultValue 600000 */
  pullTimeoutMs?: number;
  /** The pause between pull tries (pull-image.ts). @defaultValue 1–10 s, at random */
  pullRetryDelayMs?: () => number;
  /**
   * Open-files limit (soft = hard) in step containers; must not exceed the
   * engine's own hard limit. @defaultValue 16384
   */
  nofileLimit?: number;
  /**
   * How `network: true` steps get a network (select-step-network.ts).
   * @defaultValue `{ mode: 'isolated', name: 'kiln-steps', stateDir: <tmp>/kiln-step-network }`
   */
  stepNetwork?: StepNetworkSetting;
  /** How often a running step's disk use is looked at. @defaultValue 5000 */
  diskCheckMs?: number;
  /**
   * How often a running container is looked at besides the engine's wait
   * (which never ends when dockerd dies under it). @defaultValue 5000
   */
  engineCheckMs?: number;
  /** A step whose engine is silent this long fails (retried). @defaultValue 60000 */
  engineLostMs?: number;
  /**
   * How a spec's `secretNames` reach the container: `env` (in `Config.Env`,
   * which `docker inspect` shows) or `files` (write-secret-files.ts).
   * @defaultValue 'env'
   */
  secretsDelivery?: 'env' | 'files';
  /**
   * Host folder for `files` delivery; this worker uses a sub-folder named
   * after its id. It must be a path the engine sees as the worker does.
   * @defaultValue `<tmp>/kiln-step-secrets`
   */
  secretsDir?: string;
}

const PING_TIMEOUT_MS = 5_000;

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  readonly #docker: Dockerode;
  readonly #workerId: string;
  readonly #reapOnlyOwn: boolean;
  readonly #registryAuth: Readonly<Record<string, RegistryCredentials>>;
  readonly #logger: RuntimeLogger | undefined;
  readonly #pullTimeoutMs: number | undefined;
  readonly #pullRetryDelayMs: (() => number) | undefined;
  readonly #nofileLimit: number | undefined;
  readonly #stepNetwork: SelectedStepNetwork;
  readonly #diskCheckMs: number | undefined;
  readonly #engineCheckMs: number | undefined;
  readonly #engineLostMs: number | undefined;
  /** The worker's secrets folder under `files` delivery, else null. */
  readonly #secretsBase: string | null;
  /** Secret folders of containers this runtime runs now: never reaped. */
  readonly #liveSecretFolders = new Set<string>();

  constructor(options: DockerRuntimeOptions = {}) {
    // Without a socket path dockerode follows DOCKER_HOST like the docker
    // CLI does, else /var/run/docker.sock.
    this.#docker =
      options.docker ??
      new Dockerode(
        options.socketPath === undefined
          ? undefined
          : { socketPath: options.socketPath },
      );
    this.#workerId = options.workerId ?? hostname();
    this.#reapOnlyOwn = options.workerId !== undefined;
    this.#registryAuth = options.registryAuth ?? {};
    this.#logger = options.logger;
    this.#pullTimeoutMs = options.pullTimeoutMs;
    this.#pullRetryDelayMs = options.pullRetryDelayMs;
    this.#nofileLimit = options.nofileLimit;
    this.#diskCheckMs = options.diskCheckMs;
    this.#engineCheckMs = options.engineCheckMs;
    this.#engineLostMs = options.engineLostMs;
    this.#secretsBase =
      options.secretsDelivery === 'files'
        ? join(
            options.secretsDir ?? join(tmpdir(), 'kiln-step-secrets'),
            this.#workerId.replace(/[^A-Za-z0-9_.-]/g, '_'),
          )
        : null;
    this.#stepNetwork = selectStepNetwork(this.#docker, {
      setting: options.stepNetwork,
      onRecheckFailure: (error) =>
        this.#logger?.warn(
          { err: error },
          'the step network lost its rules while steps run and kiln could not put them back',
        ),
    });
  }

  /** How `network: true` steps stand, for the worker's start-up notes. */
  async checkStepNetwork(): Promise<{ ok: boolean; notes: string[] }> {
    return this.#stepNetwork.check();
  }

  async findImage(image: string): Promise<PreparedImage | null> {
    const reference = checkImageReference(image);
    const present = await this.#inspectImage(image);
    return present === null
      ? null
      : { image, digest: pickDigest(present, reference) };
  }

  async prepareImage(
    image: string,
    signal?: AbortSignal,
  ): Promise<PreparedImage> {
    const found = await this.findImage(image);
    if (found) return found;
    const reference = checkImageReference(image);
    await pullImage({
      docker: this.#docker,
      image,
      reference,
      registryAuth: this.#registryAuth,
      timeoutMs: this.#pullTimeoutMs,
      signal,
      ...(this.#pullRetryDelayMs
        ? { retryDelayMs: this.#pullRetryDelayMs }
        : {}),
    });
    const pulled = await this.#inspectImage(image);
    if (pulled === null) {
      throw new RuntimeError(
        'IMAGE_UNAVAILABLE',
        `image ${image} was pulled but the engine does not list it — pull it again`,
      );
    }
    return { image, digest: pickDigest(pulled, reference) };
  }

  async run(
    spec: StepSpec,
    sink: OutputSink,
    signal?: AbortSignal,
  ): Promise<RunResult> {
    checkImageReference(spec.image);
    // Checked before every `network: true` container (fail-closed), and
    // again every few seconds while it runs.
    const lease = spec.network ? await this.#stepNetwork.attach() : null;
    try {
      return await this.#runOn(lease?.network, spec, sink, signal);
    } finally {
      lease?.release();
    }
  }

  async #runOn(
    network: ContainerNetwork | undefined,
    spec: StepSpec,
    sink: OutputSink,
    signal: AbortSignal | undefined,
  ): Promise<RunResult> {
    const options = {
      spec,
      workerId: this.#workerId,
      nofileLimit: this.#nofileLimit,
      network,
    };
    const built = buildContainerOptions(options);
    if (!built.ok) {
      throw new RuntimeError(
        'START_FAILED',
        `cannot run execution ${JSON.stringify(spec.executionId)}: ${built.problem}`,
      );
    }
    if (signal?.aborted) return stoppedBeforeStart();
    const secrets = this.#secretsToWrite(spec);
    if (secrets === null)
      return this.#runBuilt(built.options, spec, sink, signal);

    const folder = toContainerName(spec);
    this.#liveSecretFolders.add(folder);
    const hostPath = join(this.#secretsBase!, folder);
    try {
      await writeSecretFiles({ baseDir: this.#secretsBase!, folder, secrets });
      const withFiles = buildContainerOptions({
        ...options,
        secretsHostPath: hostPath,
      });
      if (!withFiles.ok) {
        throw new RuntimeError(
          'START_FAILED',
          `cannot run execution ${JSON.stringify(spec.executionId)}: ${withFiles.problem}`,
        );
      }
      return await this.#runBuilt(withFiles.options, spec, sink, signal);
    } finally {
      this.#liveSecretFolders.delete(folder);
      await removeSecretFiles(hostPath).catch((error: unknown) => {
        this.#logger?.warn(
          { err: error, executionId: spec.executionId },
          'could not remove a step secrets folder; the reaper will',
        );
      });
    }
  }

  /** The secrets `files` delivery writes for this spec; null: none to write. */
  #secretsToWrite(spec: StepSpec): Record<string, string> | null {
    if (this.#secretsBase === null) return null;
    const entries = (spec.secretNames ?? [])
      .filter((name) => Object.hasOwn(spec.env, name))
      .map((name) => [name, spec.env[name]!] as const);
    return entries.length === 0 ? null : Object.fromEntries(entries);
  }

  async #runBuilt(
    options: Dockerode.ContainerCreateOptions,
    spec: StepSpec,
    sink: OutputSink,
    signal: AbortSignal | undefined,
  ): Promise<RunResult> {
    const container = await this.#createReplacingLeftover(options, spec);
    try {
      return await runContainer({
        docker: this.#docker,
        container,
        spec,
        sink,
        signal,
        logger: this.#logger,
        diskCheckMs: this.#diskCheckMs,
        engineCheckMs: this.#engineCheckMs,
        engineLostMs: this.#engineLostMs,
      });
    } finally {
      await this.#removeContainer(container.id, spec).catch((error) => {
        this.#logger?.warn(
          { err: error, executionId: spec.executionId },
          'could not remove a step container; the reaper will',
        );
      });
    }
  }

  async removeExecution(executionId: string): Promise<void> {
    const spec = { executionId, image: '' };
    const containers = await callEngine('list', spec, () =>
      this.#docker.listContainers({
        all: true,
        filters: { label: [`${KILN_LABELS.execution}=${executionId}`] },
      }),
    );
    for (const info of containers) await this.#removeContainer(info.Id, spec);
  }

  async findExecution(
    executionId: string,
  ): Promise<'running' | 'exited' | null> {
    const [info] = await this.#listExecution(executionId);
    if (!info) return null;
    if (info.State === 'running') return 'running';
    return info.State === 'exited' ? 'exited' : null;
  }

  async adoptExecution(
    executionId: string,
    spec: StepSpec,
    sink: OutputSink,
    signal?: AbortSignal,
  ): Promise<RunResult | null> {
    const found = await this.#listExecution(executionId);
    const [first] = found;
    if (!first) return null;
    const container = this.#docker.getContainer(first.Id);
    try {
      const info = await callEngine('inspect', spec, () => container.inspect());
      const startedAt = new Date(info.State.StartedAt);
      const base = {
        docker: this.#docker,
        container,
        spec,
        sink,
        signal,
        logger: this.#logger,
        diskCheckMs: this.#diskCheckMs,
        engineCheckMs: this.#engineCheckMs,
        engineLostMs: this.#engineLostMs,
      };
      if (info.State.Running) {
        return await adoptRunningContainer({ ...base, startedAt });
      }
      if (info.State.Status !== 'exited') return null;
      const exitCode = info.State.ExitCode;
      if (!info.State.OOMKilled && (exitCode === 143 || exitCode === 137)) {
        throw new RuntimeError(
          'STOPPED_BY_ENGINE',
          `the container of lost execution ${executionId} ended by a signal (exit code ${exitCode}) while no worker watched it; who sent it can't be known, so the step runs again`,
        );
      }
      return await readEnd({
        ...base,
        info,
        stopReason: null,
        exit: { exitCode, engineAwayMs: 0 },
        startedAt,
      });
    } finally {
      for (const item of found) {
        await this.#removeContainer(item.Id, spec).catch(() => undefined);
        for (const name of item.Names) {
          await this.#removeSecretFolder(name.replace(/^\//, ''));
        }
      }
    }
  }

  async #listExecution(
    executionId: string,
  ): Promise<Dockerode.ContainerInfo[]> {
    const spec = { executionId, image: '' };
    return callEngine('list', spec, () =>
      this.#docker.listContainers({
        all: true,
        filters: { label: [`${KILN_LABELS.execution}=${executionId}`] },
      }),
    );
  }

  async reapOrphans(keep: ReadonlySet<string> = new Set()): Promise<number> {
    const labels = [`${KILN_LABELS.managed}=true`];
    if (this.#reapOnlyOwn) {
      labels.push(`${KILN_LABELS.worker}=${this.#workerId}`);
    }
    const spec = { executionId: '(reaper)', image: '' };
    const containers = await callEngine('list', spec, () =>
      this.#docker.listContainers({ all: true, filters: { label: labels } }),
    );
    let removed = 0;
    const kept = new Set(this.#liveSecretFolders);
    for (const info of containers) {
      const executionId = info.Labels[KILN_LABELS.execution];
      if (executionId !== undefined && keep.has(executionId)) {
        for (const name of info.Names) kept.add(name.replace(/^\//, ''));
        continue;
      }
      if (await this.#removeContainer(info.Id, spec)) removed += 1;
    }
    if (this.#secretsBase !== null) {
      // Checked first: never remove through a folder someone else made.
      await prepareSecretsBase(this.#secretsBase);
      for (const folder of await listSecretFolders(this.#secretsBase)) {
        if (!kept.has(folder)) await this.#removeSecretFolder(folder);
      }
    }
    return removed;
  }

  /** A leftover secrets folder goes; failing that is logged, not thrown. */
  async #removeSecretFolder(folder: string): Promise<void> {
    if (this.#secretsBase === null || this.#liveSecretFolders.has(folder)) {
      return;
    }
    await removeSecretFiles(join(this.#secretsBase, folder)).catch(
      (error: unknown) => {
        this.#logger?.warn(
          { err: error, folder },
          'could not remove a leftover step secrets folder',
        );
      },
    );
  }

  async ping(): Promise<boolean> {
    return answersWithin(this.#docker.ping(), PING_TIMEOUT_MS);
  }

  /**
   * Never two containers for one attempt: the fixed name makes create fail
   * with 409 when a leftover (a crashed worker's) exists; it is removed and
   * create tried once more. Trying first saves a round trip on every step.
   */
  async #createReplacingLeftover(
    options: Dockerode.ContainerCreateOptions,
    spec: StepSpec,
  ): Promise<Dockerode.Container> {
    const create = () =>
      callEngine('create', spec, () => this.#docker.createContainer(options));
    try {
      return await create();
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      if (getDockerStatusCode(cause) !== 409) throw error;
      this.#logger?.warn(
        { executionId: spec.executionId, attempt: spec.attempt },
        'replacing a leftover container of the same attempt',
      );
      await this.#removeContainer(toContainerName(spec), spec);
      return create();
    }
  }

  async #inspectImage(
    image: string,
  ): Promise<Dockerode.ImageInspectInfo | null> {
    try {
      return await this.#docker.getImage(image).inspect();
    } catch (error) {
      if (getDockerStatusCode(error) === 404) return null;
      if (isEngineUnreachableError(error)) {
        throw new RuntimeError(
          'ENGINE_UNREACHABLE',
          `the Docker engine did not answer when asked about image ${image}: ${describeDockerError(error)} — check that dockerd is running`,
          { cause: error },
        );
      }
      throw new RuntimeError(
        'IMAGE_UNAVAILABLE',
        `could not inspect image ${image}: ${describeDockerError(error)}`,
        { cause: error },
      );
    }
  }

  /** Force-removes a container and its anonymous volumes; false if absent. */
  async #removeContainer(
    nameOrId: string,
    spec: Pick<StepSpec, 'executionId' | 'image'>,
  ): Promise<boolean> {
    try {
      await callEngine('remove', spec, () =>
        this.#docker.getContainer(nameOrId).remove({ force: true, v: true }),
      );
      return true;
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      // 404: already gone; 409: the engine is removing it already.
      const status = getDockerStatusCode(cause);
      if (status === 404 || status === 409) return false;
      throw error;
    }
  }
}

function checkImageReference(image: string): ImageReference {
  const parsed = parseImageReference(image);
  if (!parsed.ok) {
    throw new RuntimeError(
      'IMAGE_UNAVAILABLE',
      `invalid image reference ${JSON.stringify(image)}: ${parsed.problem} — write it as [registry/]name[:tag][@digest]`,
    );
  }
  return parsed.reference;
}

/**
 * The content digest the engine holds for this reference: the registry
 * digest of the same repository when the image came from a registry, else
 * the local image id (also `sha256:…`, but not comparable across hosts).
 */
function pickDigest(
  info: Dockerode.ImageInspectInfo,
  reference: ImageReference,
): string {
  if (reference.digest !== null) return reference.digest;
  const repoDigests = info.RepoDigests ?? [];
  const wanted = [
    `${reference.registry}/${reference.path}@`,
    `${reference.path}@`,
    `${reference.path.replace(/^library\//, '')}@`,
  ];
  // Another repository's digest would name a manifest this reference can't
  // pull: the local id is the honest answer then.
  const match = repoDigests.find((entry) =>
    wanted.some((w) => entry.startsWith(w)),
  );
  const at = match?.indexOf('@') ?? -1;
  return match !== undefined && at !== -1 ? match.slice(at + 1) : info.Id;
}
