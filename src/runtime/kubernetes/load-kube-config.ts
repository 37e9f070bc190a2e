/**
 * How kiln finds its cluster, in this order: the files `KUBECONFIG` names
 * (as kubectl reads them, first file's context), else the Pod's own service
 * account when kiln runs in the cluster, else `~/.kube/config`. Nothing
 * found is an error that says so — client-node would otherwise quietly
 * talk to http://localhost:8080.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KilnError } from '../../errors.js';

export class KubeConfigError extends KilnError {
  readonly code = 'NO_KUBE_CONFIG';
}

const SERVICE_ACCOUNT_TOKEN =
  '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface LoadKubeConfigOptions {
  /** KUBECONFIG: one or more paths, separated like PATH. */
  kubeconfig?: string;
  /** Prefix of the service account's files (tests). @defaultValue '' */
  root?: string;
  /** @defaultValue os.homedir() */
  home?: string;
}

export function loadKubeConfig(options: LoadKubeConfigOptions = {}): {
  kubeConfig: KubeConfig;
  source: string;
} {
  const kubeConfig = new KubeConfig();
  const files = (options.kubeconfig ?? '').split(delimiter).filter(Boolean);
  try {
    if (files.length > 0) {
      kubeConfig.loadFromFile(files[0]!);
      for (const file of files.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(file);
        kubeConfig.mergeConfig(more, true);
      }
      return { kubeConfig, source: `KUBECONFIG (${files.join(delimiter)})` };
    }
    const root = options.root ?? '';
    if (existsSync(`${root}${SERVICE_ACCOUNT_TOKEN}`)) {
      kubeConfig.loadFromCluster(root);
      return { kubeConfig, source: 'the in-cluster service account' };
    }
    const home = join(options.home ?? homedir(), '.kube', 'config');
    if (existsSync(home)) {
      kubeConfig.loadFromFile(home);
      return { kubeConfig, source: home };
    }
  } catch (error) {
    throw new KubeConfigError(
      `could not read the Kubernetes configuration: ${(error as Error).message}`,
    );
  }
  throw new KubeConfigError(
    'KILN_RUNTIME=kubernetes but no cluster is configured: set KUBECONFIG, run kiln in a Pod with a service account, or create ~/.kube/config',
  );
}
