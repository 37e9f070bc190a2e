import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KubeConfigError,
  loadKubeConfig,
} from '../../../../src/runtime/kubernetes/load-kube-config.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://10.1.2.3:6443" } }]
users: [{ name: u, user: { token: "t" } }]
contexts: [{ name: x, context: { cluster: c, user: u, namespace: steps } }]
current-context: x
`;

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0))
    await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-kubeconfig-'));
  dirs.push(dir);
  return dir;
}

describe('loadKubeConfig', () => {
  it('reads KUBECONFIG first', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config'), KUBECONFIG);

    const { kubeConfig, source } = loadKubeConfig({
      kubeconfig: join(dir, 'config'),
      home: dir,
    });

    expect(kubeConfig.getCurrentCluster()?.server).toBe(
      'https://10.1.2.3:6443',
    );
    expect(
      kubeConfig.getContextObject(kubeConfig.currentContext)?.namespace,
    ).toBe('steps');
    expect(source).toContain('KUBECONFIG');
  });

  it("uses the Pod's service account in the cluster, before ~/.kube/config", async () => {
    const root = await tempDir();
    const account = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    await mkdir(account, { recursive: true });
    await writeFile(join(account, 'token'), 'sa-token');
    await writeFile(join(account, 'namespace'), 'kiln-steps');
    await mkdir(join(root, '.kube'));
    await writeFile(join(root, '.kube', 'config'), KUBECONFIG);

    const { kubeConfig, source } = loadKubeConfig({ root, home: root });

    expect(source).toBe('the in-cluster service account');
    expect(
      kubeConfig.getContextObject(kubeConfig.currentContext)?.namespace,
    ).toBe('kiln-steps');
  });

  it('falls back to ~/.kube/config, and says so when there is nothing', async () => {
    const home = await tempDir();
    await mkdir(join(home, '.kube'));
    await writeFile(join(home, '.kube', 'config'), KUBECONFIG);
    const empty = await tempDir();

    expect(loadKubeConfig({ root: empty, home }).source).toBe(
      join(home, '.kube', 'config'),
    );
    expect(() => loadKubeConfig({ root: empty, home: empty })).toThrow(
      KubeConfigError,
    );
    expect(() => loadKubeConfig({ root: empty, home: empty })).toThrow(
      /no cluster is configured: set KUBECONFIG/,
    );
  });
});
