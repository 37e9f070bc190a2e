/**
 * Follows one Pod through the API server's watch, resuming after the
 * connection ends (server timeouts, a restarted API server) from a fresh
 * read, so no change is missed for long. The caller polls `pod` and waits
 * on `changed`; a Pod that is gone reads as null.
 *
 * Lifecycle: `watchPod` once the Pod is created, `close` exactly once when
 * the attempt is over (idempotent). Never throws after start: an API server
 * that stays unreachable shows as `unreachableSince`, for the caller to give
 * up on.
 */
import { Watch } from '@kubernetes/client-node';
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { IPod } from 'kubernetes-models/v1';
import { getKubeStatusCode } from './describe-kube-error.js';

export interface PodWatch {
  /** The latest state seen; null once the Pod is gone. */
  readonly pod: IPod | null;
  /** Since when reads and watches fail (ms since epoch), else null. */
  readonly unreachableSince: number | null;
  /** Resolves at the next change, or after `timeoutMs`; never rejects. */
  changed(timeoutMs: number): Promise<void>;
  close(): void;
}

export interface WatchPodOptions {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  name: string;
  /** The Pod as created (its resourceVersion is where the watch starts). */
  initial: IPod;
}

const RETRY_MS = 500;

/** The client's objects as plain JSON (dates as RFC 3339 strings). */
export function toPodJson(pod: unknown): IPod {
  return JSON.parse(JSON.stringify(pod)) as IPod;
}

export function watchPod(options: WatchPodOptions): PodWatch {
  const { kubeConfig, core, namespace, name } = options;
  let latest: IPod | null = options.initial;
  let unreachableSince: number | null = null;
  let closed = false;
  let abort: AbortController | null = null;
  let retry: NodeJS.Timeout | undefined;
  const waiters = new Set<() => void>();

  function notify(): void {
    for (const wake of waiters) wake();
    waiters.clear();
  }

  function accept(pod: IPod | null): void {
    if (pod !== null && latest !== null) {
      // An older event (a watch resumed from an older read) never wins.
      const seen = Number(latest.metadata?.resourceVersion ?? 0);
      const now = Number(pod.metadata?.resourceVersion ?? 0);
      if (now < seen) return;
    }
    latest = pod;
    notify();
  }

  async function start(resourceVersion: string | undefined): Promise<void> {
    if (closed || latest === null) return;
    const controller = await new Watch(kubeConfig).watch(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      {
        fieldSelector: `metadata.name=${name}`,
        resourceVersion,
        allowWatchBookmarks: false,
      },
      (type: string, object: unknown) => {
        if (type === 'ADDED' || type === 'MODIFIED') {
          unreachableSince = null;
          accept(object as IPod);
        } else if (type === 'DELETED') {
          accept(null);
        }
        // ERROR (e.g. 410: the version is too old): the stream ends next and
        // the restart reads the Pod afresh.
      },
      (error: unknown) => {
        if (closed) return;
        if (error) unreachableSince ??= Date.now();
        retry = setTimeout(() => void resume(), error ? RETRY_MS : 0);
      },
    );
    if (closed) controller.abort();
    else abort = controller;
  }

  async function resume(): Promise<void> {
    if (closed) return;
    try {
      const pod = toPodJson(await core.readNamespacedPod({ namespace, name }));
      unreachableSince = null;
      accept(pod);
      await start(pod.metadata?.resourceVersion);
    } catch (error) {
      if (getKubeStatusCode(error) === 404) {
        accept(null);
        return;
      }
      unreachableSince ??= Date.now();
      notify();
      retry = setTimeout(() => void resume(), RETRY_MS);
    }
  }

  void start(options.initial.metadata?.resourceVersion).catch(() => {
    unreachableSince ??= Date.now();
    retry = setTimeout(() => void resume(), RETRY_MS);
  });

  return {
    get pod() {
      return latest;
    },
    get unreachableSince() {
      return unreachableSince;
    },
    changed(timeoutMs) {
      if (closed) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          resolve();
        }, timeoutMs);
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        waiters.add(wake);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(retry);
      abort?.abort();
      notify();
    },
  };
}
