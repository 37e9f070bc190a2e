/**
 * Pulls one image through the Engine API and reads the progress stream to
 * its end. The stream reports failures as `{"error": …}` lines after a 200,
 * so the HTTP status alone does not say whether the pull worked. Lines are
 * scanned one at a time with a per-line cap; progress is not kept.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { RuntimeError } from '../runtime.js';
import {
  describeDockerError,
  isEngineUnreachableError,
} from './describe-docker-error.js';
import type { ImageReference } from './parse-image-reference.js';

export interface RegistryCredentials {
  username: string;
  password: string;
  serveraddress: string;
}

export interface PullImageOptions {
  docker: Dockerode;
  /** The reference as written (already checked by `parseImageReference`). */
  image: string;
  reference: ImageReference;
  registryAuth: Readonly<Record<string, RegistryCredentials>>;
  /** @defaultValue 600000 */
  timeoutMs?: number;
  /** Aborts the pull (the engine cancels it when the request closes). */
  signal?: AbortSignal;
  /** The pause before another try. @defaultValue 1–10 s, at random */
  retryDelayMs?: () => number;
}

/**
 * Tries per pull, as GitHub's runner does (3, with a random 1–10 s pause):
 * a registry fails for a moment (a 5xx, a reset, a TLS timeout) far more
 * often than it is gone. An answer that can't change on another try — the
 * image or tag does not exist, credentials refused, a bad reference — is
 * not tried again.
 */
const PULL_TRIES = 3;
const FINAL_FAILURE =
  /manifest unknown|not found|does not exist|unauthorized|authentication required|denied|invalid reference|HTTP 40[134]\b/i;

const DEFAULT_PULL_TIMEOUT_MS = 600_000;
const MAX_PROGRESS_LINE = 64 * 1024;
const DOCKER_HUB_ALIASES = [
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'https://index.docker.io/v1/',
];

/** Resolves once the engine has the image; rejects with `RuntimeError`. */
export async function pullImage(options: PullImageOptions): Promise<void> {
  const failures: string[] = [];
  for (let attempt = 1; ; attempt += 1) {
    const failure = await pullOnce(options);
    if (failure === null) return;
    failures.push(failure);
    if (attempt >= PULL_TRIES || FINAL_FAILURE.test(failure)) break;
    const delay =
      options.retryDelayMs?.() ?? 1_000 + Math.floor(Math.random() * 9_000);
    await sleep(delay, undefined, { signal: options.signal }).catch(
      () => undefined,
    );
    options.signal?.throwIfAborted();
  }
  const tries = failures.length > 1 ? ` (${failures.length} tries)` : '';
  throw new RuntimeError(
    'IMAGE_UNAVAILABLE',
    `image ${options.image} is not on this Docker host and pulling it failed${tries}: ${failures.at(-1) ?? ''} — build or load it, or check registry credentials`,
  );
}

/** One pull: null when the engine has the image, else what failed. */
async function pullOnce(options: PullImageOptions): Promise<string | null> {
  const { docker, image, reference } = options;
  const auth = findCredentials(options.registryAuth, reference.registry);
  const query =
    reference.tag === null && reference.digest === null
      ? // Without a tag the engine pulls every tag of the repository.
        { fromImage: image, tag: 'latest' }
      : { fromImage: image };
  const timeoutMs = options.timeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;

  let failure: string | null = null;
  options.signal?.throwIfAborted();
  try {
    const stream = (await docker.createImage(
      auth,
      query,
    )) as NodeJS.ReadableStream;
    failure = await readPullProgress(stream, timeoutMs, options.signal);
  } catch (error) {
    if (isEngineUnreachableError(error)) {
      throw new RuntimeError(
        'ENGINE_UNREACHABLE',
        `the Docker engine did not answer while pulling ${image}: ${describeDockerError(error)} — check that dockerd is running`,
        { cause: error },
      );
    }
    failure = describeDockerError(error);
  }
  options.signal?.throwIfAborted();
  return failure;
}

function findCredentials(
  registryAuth: Readonly<Record<string, RegistryCredentials>>,
  registry: string,
): RegistryCredentials | undefined {
  const keys = DOCKER_HUB_ALIASES.includes(registry)
    ? DOCKER_HUB_ALIASES
    : [registry, `https://${registry}`];
  for (const key of keys) {
    if (Object.hasOwn(registryAuth, key)) return registryAuth[key];
  }
  return undefined;
}

/** Returns the first error the engine reported, or null on success. */
function readPullProgress(
  stream: NodeJS.ReadableStream,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string | null> {
  return new Promise((resolve) => {
    let pending = '';
    let failure: string | null = null;
    let settled = false;
    const destroy = () =>
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    const timer = setTimeout(() => {
      finish(`no result after ${timeoutMs} ms`);
      destroy();
    }, timeoutMs);
    const onAbort = () => {
      finish('the pull was stopped');
      destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    function finish(result: string | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(result);
    }

    function readLine(line: string): void {
      if (failure !== null || line.trim() === '') return;
      try {
        const event = JSON.parse(line) as {
          error?: unknown;
          errorDetail?: { message?: unknown };
        };
        if (typeof event.errorDetail?.message === 'string') {
          failure = event.errorDetail.message;
        } else if (typeof event.error === 'string') {
          failure = event.error;
        }
      } catch {
        // A progress line that is not JSON carries no verdict.
      }
    }

    stream.on('data', (chunk: Buffer | string) => {
      pending += chunk.toString();
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        readLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
      if (pending.length > MAX_PROGRESS_LINE) pending = '';
    });
    stream.on('error', (error: unknown) =>
      finish(failure ?? describeDockerError(error)),
    );
    const onEnd = (): void => {
      readLine(pending);
      pending = '';
      finish(failure);
    };
    stream.on('end', onEnd);
    stream.on('close', onEnd);
  });
}
