/**
 * `KILN_RUNTIME=kubernetes` from settings: finds the cluster, reads the
 * environments file, and checks that the namespace answers, exists and
 * takes kiln's Pods and Secrets before the worker takes steps, so a
 * misconfigured worker fails at start with the reason rather than failing
 * every step.
 */
import type { Settings } from '../../settings.js';
import { RuntimeError } from '../runtime.js';
import { KubernetesRuntime, type RuntimeLogger } from './kubernetes-runtime.js';
import { loadEnvironments } from './load-environments.js';
import { loadKubeConfig } from './load-kube-config.js';

export async function createKubernetesRuntime(
  settings: Settings,
  notes: string[],
  logger?: RuntimeLogger,
): Promise<KubernetesRuntime> {
  const { kubeConfig, source } = loadKubeConfig({
    kubeconfig: settings.kubeconfig,
  });
  const environments =
    settings.kubernetesEnvironments === undefined
      ? undefined
      : await loadEnvironments(settings.kubernetesEnvironments);
  const runtime = new KubernetesRuntime({
    kubeConfig,
    namespace: settings.kubernetesNamespace,
    workerId: settings.workerId,
    files: settings.kubernetesFiles,
    helperImage: settings.kubernetesHelperImage,
    environments,
    nodeName: settings.kubernetesNodeName,
    imagePullSecrets: settings.kubernetesImagePullSecrets,
    unschedulableTimeoutMs: settings.kubernetesUnschedulableTimeoutMs,
    imagePullGraceMs: settings.kubernetesImagePullGraceMs,
    logger,
  });
  if (!(await runtime.ping())) {
    throw new RuntimeError(
      'ENGINE_UNREACHABLE',
      `KILN_RUNTIME=kubernetes but the cluster from ${source} does not answer, or kiln may not list Pods in namespace ${runtime.namespace}: check the cluster, KUBECONFIG and kiln's RBAC (docs/kubernetes.md)`,
    );
  }
  const problem = await runtime.checkNamespace();
  if (problem !== null) {
    throw new RuntimeError(
      'START_FAILED',
      `KILN_RUNTIME=kubernetes but no step could run on the cluster from ${source}: ${problem}`,
    );
  }
  notes.push(
    `runtime: kubernetes (a Pod per step in namespace ${runtime.namespace}, files ${settings.kubernetesFiles}, cluster from ${source})`,
  );
  return runtime;
}
