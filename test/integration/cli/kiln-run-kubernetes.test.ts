/**
 * The iris example with `kiln run` and KILN_RUNTIME=kubernetes: every step
 * a Pod on a real cluster (kube-apiserver, scheduler, kubelet), its
 * repository, inputs and config copied in through the API server, the
 * model passing from train to evaluate through the worker's artifact store,
 * metrics and logs streamed live.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../../src/runtime/kubernetes/load-kube-config.js';
import { commitAll, git } from '../../helpers/git-repo.js';
import {
  haveKube,
  startKube,
  type TestKube,
} from '../../helpers/kube-cluster.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';

const run = promisify(execFile);
const kiln = join(process.cwd(), 'bin', 'kiln.js');
const IMAGE = 'kiln-examples/python-sklearn:1';
const ready =
  haveRedis() && haveImage(IMAGE) && haveImage(BUSYBOX_IMAGE) && haveKube();

interface Execution {
  id: string;
  step: string;
  status: string;
  metrics: Record<string, number>;
  outputs: Array<{ path: string; sha256: string }>;
  inputs: Array<{ input: string; name: string; sha256: string }>;
}

describe.skipIf(!ready)('kiln run of the iris example on Kubernetes', () => {
  let redis: TestRedis;
  let kube: TestKube | null = null;
  let repo: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    kube = await startKube({ node: true });
    if (kube === null) throw new Error('no cluster');
    redis = await startTestRedis();
    repo = mkdtempSync(join(tmpdir(), 'kiln-iris-'));
    cpSync(join(process.cwd(), 'pipelines', 'examples', 'iris'), repo, {
      recursive: true,
    });
    git(repo, 'init', '-q', '-b', 'main');
    commitAll(repo, 'iris');
    dataDir = mkdtempSync(join(tmpdir(), 'kiln-data-'));
    env = {
      ...process.env,
      REDIS_URL: redis.url,
      KILN_DATA_DIR: dataDir,
      KILN_RUNTIME: 'kubernetes',
      KUBECONFIG: kube.kubeconfig,
      KILN_KUBERNETES_HELPER_IMAGE: BUSYBOX_IMAGE,
      KILN_KUBERNETES_IMAGE_PULL_GRACE_MS: '0',
    };
  }, 900_000);

  afterAll(async () => {
    await redis?.close();
    await kube?.stop();
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('trains and evaluates in Pods: curves per iteration, the model through an edge', async () => {
    const { stdout } = await run(
      'node',
      [
        kiln,
        'run',
        'train-and-evaluate',
        '--param',
        'train.max_iter=12',
        '--json',
        '-C',
        repo,
      ],
      { env, maxBuffer: 64 * 1024 * 1024 },
    );
    const { run: record, executions } = JSON.parse(stdout) as {
      run: { status: string; runtime?: string };
      executions: Execution[];
    };
    const pods = await loadKubeConfig({ kubeconfig: kube!.kubeconfig })
      .kubeConfig.makeApiClient(CoreV1Api)
      .listNamespacedPod({
        namespace: 'default',
        labelSelector: 'kiln.managed=true',
      });

    expect(record.status).toBe('complete');
    const train = executions.find((item) => item.step === 'train')!;
    const evaluate = executions.find((item) => item.step === 'evaluate')!;
    const model = train.outputs.find((file) => file.path === 'model.pkl');
    expect(model).toBeDefined();
    expect(evaluate.inputs).toContainEqual(
      expect.objectContaining({
        input: 'model',
        name: 'model.pkl',
        sha256: model!.sha256,
      }),
    );
    expect(evaluate.metrics.accuracy).toBeGreaterThan(0.6);
    const { stdout: log } = await run('node', [kiln, 'logs', train.id], {
      env,
    });
    const iterations = log
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('"iteration"'));
    expect(iterations).toHaveLength(12);
    expect(pods.items).toEqual([]);
  });
});
