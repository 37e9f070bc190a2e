/**
 * A real Kubernetes v1.20 for one test file, started by scripts/start-kube.sh
 * on free loopback ports in a private dir: etcd + kube-apiserver, and with
 * `node: true` also kube-scheduler + a kubelet driving the local Docker
 * engine, so Pods really run. The binaries come from scripts/build-kube.sh
 * (built once per machine, ≈ 8 min; CI's scripts/test.sh builds them first).
 *
 * A kubelet kills the containers of Pods it does not know, so only one may
 * drive the Docker engine at a time: clusters with a node take a
 * machine-wide lock (a directory holding the owner's pid), waited for with a
 * deadline and taken over from a dead owner.
 *
 * With CI=true a cluster that cannot start fails the test file; elsewhere
 * `startKube` returns null and the caller skips (see services.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/runtime/kubernetes/load-kube-config.js';
import { freePort } from './redis-server.js';
import { requireService } from './services.js';

export interface TestKube {
  /** Path of an admin kubeconfig. */
  kubeconfig: string;
  dir: string;
  apiPort: number;
  /** Stops the cluster and removes its dir (and releases the node lock). */
  stop(): Promise<void>;
}

export interface StartKubeOptions {
  /** Scheduler + kubelet, so Pods run. */
  node: boolean;
  /** How long to wait for another test file's node. @defaultValue 600000 */
  lockTimeoutMs?: number;
}

const ROOT = resolve(import.meta.dirname, '../..');
/** Where scripts/build-kube.sh caches the binaries (kubectl among them). */
export const KUBE_BIN = process.env.KUBE_BIN ?? '/var/cache/kiln/k8s';
const NODE_LOCK = join(tmpdir(), 'kiln-kube-node.lock');

/** Whether scripts/build-kube.sh has cached the binaries. */
export function kubeBinariesBuilt(): boolean {
  try {
    execFileSync('bash', [join(ROOT, 'scripts/build-kube.sh'), '--check'], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

/** requireService for a cluster (skips elsewhere, fails under CI). */
export function haveKube(): boolean {
  return requireService(
    'Kubernetes (kube-apiserver, kubelet)',
    kubeBinariesBuilt(),
    'build it once with scripts/build-kube.sh (≈ 8 min)',
  );
}

export async function startKube(
  options: StartKubeOptions,
): Promise<TestKube | null> {
  const releaseLock = options.node
    ? await takeNodeLock(options.lockTimeoutMs ?? 600_000)
    : () => undefined;
  const parent = mkdtempSync(join(tmpdir(), 'kiln-kube-'));
  const dir = join(parent, 'cluster');
  const ports = {
    API_PORT: await freePort(),
    ETCD_PORT: await freePort(),
    ETCD_PEER_PORT: await freePort(),
    KUBELET_PORT: await freePort(),
    KUBELET_HEALTHZ_PORT: await freePort(),
  };
  const env = {
    ...process.env,
    KUBE_DIR: dir,
    KUBE_NODE: options.node ? '1' : '0',
    KUBE_NO_BUILD: '1',
    ...Object.fromEntries(
      Object.entries(ports).map(([key, value]) => [key, String(value)]),
    ),
  };
  const stop = async (): Promise<void> => {
    await run('bash', [join(ROOT, 'scripts/stop-kube.sh')], env);
    rmSync(parent, { recursive: true, force: true });
    releaseLock();
  };
  const started = await run('bash', [join(ROOT, 'scripts/start-kube.sh')], env);
  if (started.code !== 0) {
    await stop();
    const missing = started.code === 3;
    requireService(
      'a Kubernetes cluster',
      false,
      missing
        ? 'its binaries are not built: run scripts/build-kube.sh (≈ 8 min, once)'
        : `scripts/start-kube.sh failed:\n${started.output.slice(-3000)}`,
    );
    return null;
  }
  return {
    kubeconfig: join(dir, 'kubeconfig'),
    dir,
    apiPort: ports.API_PORT,
    stop,
  };
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { env, cwd: ROOT });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => done({ code: code ?? 1, output }));
  });
}

async function takeNodeLock(timeoutMs: number): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(NODE_LOCK);
      writeFileSync(join(NODE_LOCK, 'pid'), String(process.pid));
      return () => rmSync(NODE_LOCK, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!ownerAlive()) {
      rmSync(NODE_LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `another test's Kubernetes node (lock ${NODE_LOCK}) was not released within ${timeoutMs / 1000} s`,
      );
    }
    await sleep(500);
  }
}

function ownerAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(NODE_LOCK, 'pid'), 'utf8'));
  } catch {
    // Being written right now: count it as alive for one more round.
    return true;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What a Pod watch saw of one Pod. */
export interface SeenPod {
  name: string;
  labels: Record<string, string>;
  /** The exact execution id (the `kiln.execution` annotation). */
  executionId?: string;
  /** Order of its ADDED and DELETED events among all events seen. */
  addedAt: number;
  deletedAt?: number;
}

export interface PodWatch {
  /** Every Pod seen, in the order they appeared. */
  pods(): SeenPod[];
  /** The most Pods matching `filter` that existed at one time. */
  mostAtOnce(filter?: (pod: SeenPod) => boolean): number;
  stop(): Promise<void>;
}

/**
 * Watches kiln's Pods in a namespace through the API server and keeps when
 * each was added and deleted, so a test can tell whether two existed at
 * once (by the API's own order of events, not by sampling).
 */
export async function watchKilnPods(
  kubeconfig: string,
  namespace = 'default',
): Promise<PodWatch> {
  const { kubeConfig } = loadKubeConfig({ kubeconfig });
  const seen = new Map<string, SeenPod>();
  let order = 0;
  // A watch that ends before `stop` has missed events: the test must not
  // trust what it saw.
  let stopping = false;
  let ended: string | undefined;
  const controller = await new Watch(kubeConfig).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { labelSelector: 'kiln.managed=true' },
    (type: string, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      order += 1;
      if (type === 'ADDED' && !seen.has(name)) {
        seen.set(name, {
          name,
          labels: pod.metadata?.labels ?? {},
          executionId: pod.metadata?.annotations?.['kiln.execution'],
          addedAt: order,
        });
      } else if (type === 'DELETED') {
        const known = seen.get(name);
        if (known) known.deletedAt = order;
      }
    },
    (error: unknown) => {
      if (!stopping) ended = error ? String(error) : 'closed by the server';
    },
  );
  return {
    pods: () => [...seen.values()],
    mostAtOnce(filter = () => true) {
      const events = [...seen.values()]
        .filter(filter)
        .flatMap((pod) => [
          { at: pod.addedAt, change: 1 },
          ...(pod.deletedAt === undefined
            ? []
            : [{ at: pod.deletedAt, change: -1 }]),
        ])
        .sort((a, b) => a.at - b.at);
      let alive = 0;
      let most = 0;
      for (const event of events) {
        alive += event.change;
        most = Math.max(most, alive);
      }
      return most;
    },
    async stop() {
      stopping = true;
      controller.abort();
      if (ended !== undefined)
        throw new Error(`the Pod watch ended early (${ended})`);
    },
  };
}
