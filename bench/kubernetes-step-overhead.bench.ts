/**
 * M9, Kubernetes step overhead (docs/benchmarks.md): the subject is
 * `KubernetesRuntime` doing a whole step — `prepareImage`, then `run`
 * (the env Secret, the Pod, its watch, attach and the released gate, the
 * exit read back, Pod and Secret deleted) — for busybox
 * `echo '{"loss":0.1}'`, in the default `copy` file mode. The baseline is a
 * bare client-node script on the same cluster, image and command: create
 * the Pod → watch it to Succeeded → read its log → delete it. Interleaved,
 * after a warm-up. Target: time ratio ≤ 1.2.
 *
 * Needs a cluster whose Pods really run: KUBECONFIG, else a private one
 * started with scripts/start-kube.sh (binaries from scripts/build-kube.sh),
 * and `kiln-test/busybox:1` (scripts/build-test-images.sh).
 *
 *   npx tsx bench/kubernetes-step-overhead.bench.ts   (or npm run bench:kubernetes)
 */
import { randomUUID } from 'node:crypto';
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { KubernetesRuntime } from '../src/runtime/kubernetes/kubernetes-runtime.js';
import { loadKubeConfig } from '../src/runtime/kubernetes/load-kube-config.js';
import type { StepSpec } from '../src/runtime/runtime.js';
import { startKube, type TestKube } from '../test/helpers/kube-cluster.js';
import { runBenchmark } from './harness.js';

const IMAGE = 'kiln-test/busybox:1';
const COMMAND = `echo '{"loss":0.1}'`;
const EXPECTED = '{"loss":0.1}\n';
const NAMESPACE = 'default';

async function main(): Promise<void> {
  let kube: TestKube | null = null;
  let kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) {
    kube = await startKube({ node: true });
    if (kube === null)
      throw new Error('no Kubernetes cluster: run scripts/build-kube.sh first');
    kubeconfig = kube.kubeconfig;
  }
  const { kubeConfig } = loadKubeConfig({ kubeconfig });
  const runtime = new KubernetesRuntime({
    kubeConfig,
    namespace: NAMESPACE,
    workerId: `bench-${randomUUID().slice(0, 8)}`,
    helperImage: IMAGE,
  });
  try {
    if (!(await runtime.ping())) throw new Error('the cluster does not answer');
    const result = await runBenchmark({
      id: 'M9',
      name: 'kubernetes-step-overhead',
      subject: () => runSubject(runtime),
      baseline: () => runBaseline(kubeConfig),
      repetitions: 15,
      targetRatio: 1.2,
      details: {
        image: IMAGE,
        command: COMMAND,
        files: 'copy',
        kubernetes: 'v1.20.2',
      },
    });
    if (!result.pass) process.exitCode = 1;
  } finally {
    await runtime.reapOrphans().catch(() => undefined);
    await kube?.stop();
  }
}

async function runSubject(runtime: KubernetesRuntime): Promise<void> {
  let stdout = '';
  await runtime.prepareImage(IMAGE);
  const spec: StepSpec = {
    executionId: `bench-${randomUUID().slice(0, 13)}`,
    attempt: 1,
    image: IMAGE,
    commands: [COMMAND],
    env: {},
    workdir: '/',
    mounts: [],
    network: false,
    resources: {},
    labels: {},
  };
  const result = await runtime.run(spec, {
    stdout: (chunk) => {
      stdout += chunk.toString();
    },
    stderr: () => undefined,
  });
  check(result.exitCode, stdout);
}

async function runBaseline(kubeConfig: KubeConfig): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const name = `bench-bare-${randomUUID().slice(0, 13)}`;
  const created = await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'step',
            image: IMAGE,
            imagePullPolicy: 'IfNotPresent',
            command: ['/bin/sh', '-c', COMMAND],
          },
        ],
      },
    },
  });
  try {
    const pod = await waitForEnd(
      kubeConfig,
      name,
      created.metadata!.resourceVersion!,
    );
    const exitCode =
      pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode ?? null;
    const log = await core.readNamespacedPodLog({ namespace: NAMESPACE, name });
    check(exitCode, log);
  } finally {
    await core.deleteNamespacedPod({
      namespace: NAMESPACE,
      name,
      gracePeriodSeconds: 0,
    });
  }
}

function waitForEnd(
  kubeConfig: KubeConfig,
  name: string,
  resourceVersion: string,
): Promise<V1Pod> {
  return new Promise((resolve, reject) => {
    let abort: AbortController | undefined;
    let done = false;
    void new Watch(kubeConfig)
      .watch(
        `/api/v1/namespaces/${NAMESPACE}/pods`,
        { fieldSelector: `metadata.name=${name}`, resourceVersion },
        (_type: string, pod: V1Pod) => {
          const phase = pod.status?.phase;
          if (!done && (phase === 'Succeeded' || phase === 'Failed')) {
            done = true;
            abort?.abort();
            resolve(pod);
          }
        },
        (error: unknown) => {
          if (!done)
            reject(
              error instanceof Error ? error : new Error('the watch ended'),
            );
        },
      )
      .then((controller) => {
        abort = controller;
        if (done) controller.abort();
      }, reject);
  });
}

/** Both sides must really run the step, or the ratio means nothing. */
function check(exitCode: number | null, stdout: string): void {
  if (exitCode !== 0 || stdout !== EXPECTED) {
    throw new Error(
      `step failed: exit ${exitCode}, stdout ${JSON.stringify(stdout)}`,
    );
  }
}

await main();
