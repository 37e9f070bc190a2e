/**
 * deploy/kubernetes against a real kube-apiserver: the kustomization renders
 * (kubectl's own kustomize), every object passes a server-side dry-run, and
 * the workers' RBAC is enough for the Kubernetes runtime — a step really
 * runs in kiln-steps with the kiln-worker service account's token — and no
 * more (kiln's own namespace and the nodes stay out of reach).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesRuntime } from '../../../src/runtime/kubernetes/kubernetes-runtime.js';
import { parseEnvironments } from '../../../src/runtime/kubernetes/load-environments.js';
import { loadKubeConfig } from '../../../src/runtime/kubernetes/load-kube-config.js';
import {
  KUBE_BIN,
  haveKube,
  startKube,
  type TestKube,
} from '../../helpers/kube-cluster.js';
import { BUSYBOX_IMAGE, haveImage } from '../../helpers/services.js';

const run = promisify(execFile);
const DEPLOY = resolve(import.meta.dirname, '../../../deploy/kubernetes');
const ok = haveImage(BUSYBOX_IMAGE) && haveKube();

describe.skipIf(!ok)('deploy/kubernetes (real kube-apiserver)', () => {
  let kube: TestKube | null = null;
  let admin: CoreV1Api;

  const kubectl = (...args: string[]) =>
    run(
      join(KUBE_BIN, 'kubectl'),
      ['--kubeconfig', kube!.kubeconfig, ...args],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );

  beforeAll(async () => {
    kube = await startKube({ node: true });
    if (kube === null) throw new Error('no cluster');
    admin = loadKubeConfig({
      kubeconfig: kube.kubeconfig,
    }).kubeConfig.makeApiClient(CoreV1Api);
    // Namespaced objects can only be dry-run into namespaces that exist.
    for (const name of ['kiln', 'kiln-steps']) {
      await admin.createNamespace({ body: { metadata: { name } } });
    }
  }, 900_000);

  afterAll(async () => {
    await kube?.stop();
  }, 120_000);

  it('renders and passes a server-side dry-run of every object', async () => {
    const rendered = await kubectl('kustomize', DEPLOY);
    const kinds = [...rendered.stdout.matchAll(/^kind: (\w+)$/gm)].map(
      (match) => match[1],
    );

    const applied = await kubectl('apply', '-k', DEPLOY, '--dry-run=server');

    expect(kinds.sort()).toEqual(
      [
        'ConfigMap',
        'ConfigMap',
        'Deployment',
        'Namespace',
        'Namespace',
        'NetworkPolicy',
        'NetworkPolicy',
        'Role',
        'RoleBinding',
        'Secret',
        'Service',
        'Service',
        'ServiceAccount',
        'ServiceAccount',
        'StatefulSet',
        'StatefulSet',
      ].sort(),
    );
    const lines = applied.stdout.trim().split('\n');
    expect(lines).toHaveLength(kinds.length);
    for (const line of lines) expect(line).toMatch(/\(server dry run\)$/);
  });

  it('ships an environments file kiln reads', async () => {
    const text = await readFile(join(DEPLOY, 'environments.yaml'), 'utf8');

    const environments = parseEnvironments(text, 'environments.yaml');

    expect([...environments.byName.keys()]).toEqual(['cpu', 'gpu-t4']);
    expect(environments.fallback).toBe('cpu');
  });

  it('gives workers exactly what the runtime needs, in kiln-steps only', async () => {
    await kubectl('apply', '-f', join(DEPLOY, 'worker-rbac.yaml'));
    const token = await admin.createNamespacedServiceAccountToken({
      namespace: 'kiln',
      name: 'kiln-worker',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const worker = new KubeConfig();
    worker.loadFromOptions({
      clusters: [
        {
          name: 'test',
          server: `https://127.0.0.1:${kube!.apiPort}`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'kiln-worker', token: token.status!.token }],
      contexts: [{ name: 'test', cluster: 'test', user: 'kiln-worker' }],
      currentContext: 'test',
    });
    const runtime = new KubernetesRuntime({
      kubeConfig: worker,
      namespace: 'kiln-steps',
      workerId: 'kiln-worker-0',
      helperImage: BUSYBOX_IMAGE,
      imagePullGraceMs: 0,
    });
    let stdout = '';

    const result = await runtime.run(
      {
        executionId: 'rbac-check',
        attempt: 1,
        image: BUSYBOX_IMAGE,
        commands: ['echo "$GREETING from a step"'],
        env: { GREETING: 'hello' },
        workdir: '/',
        mounts: [],
        network: false,
        resources: {},
        labels: {},
        timeLimitMs: 60_000,
      },
      {
        stdout: (chunk) => (stdout += chunk.toString()),
        stderr: () => undefined,
      },
    );
    const reaped = await runtime.reapOrphans();
    // The start check (dry-run creations) passes with this Role, and says
    // what is missing where the worker has none.
    const startCheck = await runtime.checkNamespace();
    const startCheckElsewhere = await new KubernetesRuntime({
      kubeConfig: worker,
      namespace: 'kiln',
    }).checkNamespace();
    const core = worker.makeApiClient(CoreV1Api);
    const elsewhere = await core.listNamespacedPod({ namespace: 'kiln' }).then(
      () => 'allowed',
      (error: { code?: number }) => error.code,
    );
    const nodes = await core.listNode().then(
      () => 'allowed',
      (error: { code?: number }) => error.code,
    );

    expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
    expect(stdout).toBe('hello from a step\n');
    expect(reaped).toBe(0);
    expect(await runtime.ping()).toBe(true);
    expect(startCheck).toBeNull();
    expect(startCheckElsewhere).toMatch(
      /^kiln may not create Pods in namespace kiln \(HTTP 403: .*\): check the worker's Role/,
    );
    expect(elsewhere).toBe(403);
    expect(nodes).toBe(403);
  });
});
