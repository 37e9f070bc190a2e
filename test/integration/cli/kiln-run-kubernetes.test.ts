/**
 * kiln's own processes on a real cluster (kube-apiserver, scheduler,
 * kubelet), one cluster for the file (each start costs 10–15 s and the
 * machine's one node):
 *
 * - the iris example with `kiln run`, KILN_RUNTIME=kubernetes and the
 *   artifact store on a real S3 server (radosgw, a versioned bucket): every
 *   step a Pod, its repository, inputs and config copied in through the API
 *   server, the model passing from train to evaluate through the bucket,
 *   metrics and logs kept, and the records holding image, command, the
 *   inputs' object versions and the outputs' sha256;
 * - two `kiln worker` processes, the one whose Pod runs a step SIGKILLed:
 *   the other takes the step over once the job's lock lapses, deletes the
 *   lost attempt's Pod before it creates its own (never two Pods for one
 *   step, by the API server's own order of events), and the step completes
 *   once.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  GetObjectCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ExecutionRecord,
  InputFileRecord,
} from '../../../src/model/execution.js';
import { loadKubeConfig } from '../../../src/runtime/kubernetes/load-kube-config.js';
import { haveCeph, startTestS3, type TestS3 } from '../../helpers/ceph-s3.js';
import { commitAll, git } from '../../helpers/git-repo.js';
import {
  haveKube,
  startKube,
  watchKilnPods,
  type TestKube,
} from '../../helpers/kube-cluster.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import {
  startServiceFixture,
  waitFor,
  waitForRun,
  type ServiceFixture,
  type WorkerProcess,
} from '../service/service-fixture.js';

const run = promisify(execFile);
const kiln = join(process.cwd(), 'bin', 'kiln.js');
const IMAGE = 'kiln-examples/python-sklearn:1';
const ready =
  haveRedis() && haveImage(IMAGE) && haveImage(BUSYBOX_IMAGE) && haveKube();

const sha = (bytes: Uint8Array) =>
  createHash('sha256').update(bytes).digest('hex');

describe.skipIf(!ready)('kiln on Kubernetes', () => {
  let kube: TestKube | null = null;

  beforeAll(async () => {
    kube = await startKube({ node: true });
    if (kube === null) throw new Error('no cluster');
  }, 900_000);

  afterAll(async () => {
    await kube?.stop();
  }, 120_000);

  /** What a `kiln worker` or `kiln run` needs to run steps on the cluster. */
  const clusterEnv = () => ({
    KILN_RUNTIME: 'kubernetes',
    KUBECONFIG: kube!.kubeconfig,
    KILN_KUBERNETES_HELPER_IMAGE: BUSYBOX_IMAGE,
    KILN_KUBERNETES_IMAGE_PULL_GRACE_MS: '0',
  });

  /** kiln's Pods and Secrets still in the namespace. */
  async function leftovers(): Promise<string[]> {
    const core = loadKubeConfig({
      kubeconfig: kube!.kubeconfig,
    }).kubeConfig.makeApiClient(CoreV1Api);
    const request = {
      namespace: 'default',
      labelSelector: 'kiln.managed=true',
    };
    const pods = await core.listNamespacedPod(request);
    const secrets = await core.listNamespacedSecret(request);
    return [
      ...pods.items.map((pod) => `Pod ${pod.metadata?.name ?? ''}`),
      ...secrets.items.map((secret) => `Secret ${secret.metadata?.name ?? ''}`),
    ];
  }

  describe.skipIf(!haveCeph())('the iris example with kiln run and S3', () => {
    let redis: TestRedis;
    let s3: TestS3;
    let admin: S3Client;
    let bucket: string;
    let repo: string;
    let dataDir: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      redis = await startTestRedis();
      s3 = await startTestS3();
      admin = s3.client();
      bucket = await s3.createBucket({ versioned: true });
      repo = mkdtempSync(join(tmpdir(), 'kiln-iris-'));
      cpSync(join(process.cwd(), 'pipelines', 'examples', 'iris'), repo, {
        recursive: true,
      });
      git(repo, 'init', '-q', '-b', 'main');
      commitAll(repo, 'iris');
      dataDir = mkdtempSync(join(tmpdir(), 'kiln-data-'));
      env = {
        ...process.env,
        ...s3.env,
        ...clusterEnv(),
        REDIS_URL: redis.url,
        KILN_DATA_DIR: dataDir,
        KILN_ARTIFACTS_URL: `s3://${bucket}/kiln`,
      };
    }, 300_000);

    afterAll(async () => {
      admin?.destroy();
      await redis?.close();
      rmSync(repo, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('trains and evaluates in Pods: curves per iteration, the model through the bucket, every object version recorded', async () => {
      const pods = await watchKilnPods(kube!.kubeconfig);

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
        run: { id: string; status: string };
        executions: ExecutionRecord[];
      };
      const ofRun = (pod: { labels: Record<string, string> }) =>
        pod.labels['kiln.run'] === record.id;
      const last = executions.find((item) => item.step === 'evaluate');
      await waitFor("the last step's Pod to be deleted", 30_000, () =>
        pods
          .pods()
          .some(
            (pod) =>
              pod.executionId === last?.id && pod.deletedAt !== undefined,
          ),
      );
      await pods.stop();

      expect(record.status).toBe('complete');
      const byStep = new Map(executions.map((item) => [item.step, item]));
      const prepare = byStep.get('prepare')!;
      const train = byStep.get('train')!;
      const evaluate = byStep.get('evaluate')!;
      // Every step a Pod of its own, one after the other.
      expect(
        pods
          .pods()
          .filter(ofRun)
          .map((pod) => pod.executionId),
      ).toEqual([prepare.id, train.id, evaluate.id]);
      expect(pods.mostAtOnce(ofRun)).toBe(1);
      expect(await leftovers()).toEqual([]);
      for (const execution of executions) {
        expect(execution).toMatchObject({
          status: 'complete',
          runtime: 'kubernetes',
          image: IMAGE,
        });
      }
      expect(train.command).toEqual([
        'python3 train.py --C=1.0 --max_iter=12 --learning_rate=optimal --seed=7',
      ]);
      expect(evaluate.command).toEqual(['python3 evaluate.py']);

      // Outputs by sha256, each an object of the bucket under its digest.
      const objectOf = async (sha256: string) => {
        const key = `kiln/sha256/${sha256.slice(0, 2)}/${sha256.slice(2)}`;
        const head = await admin.send(
          new HeadObjectCommand({ Bucket: bucket, Key: key }),
        );
        const body = await admin.send(
          new GetObjectCommand({ Bucket: bucket, Key: key }),
        );
        const bytes = await body.Body!.transformToByteArray();
        return { head, sha256: sha(bytes) };
      };
      const model = train.outputs.find((file) => file.path === 'model.pkl')!;
      expect(model.sha256).toMatch(/^[0-9a-f]{64}$/);
      const stored = await objectOf(model.sha256);
      expect(stored.sha256).toBe(model.sha256);
      expect(stored.head.Metadata?.sha256).toBe(model.sha256);
      expect(stored.head.ContentLength).toBe(model.size);

      // Inputs: the exact object (ETag and version) each one came from.
      const expected: InputFileRecord = {
        input: 'model',
        name: 'model.pkl',
        uri: model.datum,
        size: model.size,
        sha256: model.sha256,
        etag: stored.head.ETag!,
        versionId: stored.head.VersionId!,
      };
      expect(expected.versionId).toMatch(/\S/);
      expect(expected.versionId).not.toBe('null');
      expect(evaluate.inputs).toContainEqual(expected);
      for (const execution of [train, evaluate]) {
        for (const input of execution.inputs) {
          const object = await objectOf(input.sha256);
          expect(input).toMatchObject({
            etag: object.head.ETag,
            versionId: object.head.VersionId,
          });
        }
      }
      expect(train.inputs.map((input) => input.name)).toEqual(['train.csv']);
      expect(evaluate.inputs.map((input) => input.name).sort()).toEqual([
        'model.pkl',
        'test.csv',
      ]);

      // Metrics parsed from the Pods' output, logs kept.
      expect(train.metrics.iteration).toBe(12);
      expect(evaluate.metrics.accuracy).toBeGreaterThan(0.6);
      const { stdout: log } = await run('node', [kiln, 'logs', train.id], {
        env,
      });
      const iterations = log
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes('"iteration"'));
      expect(iterations).toHaveLength(12);
    });
  });

  describe('a kiln worker killed while its Pod runs', () => {
    let fixture: ServiceFixture;

    beforeAll(async () => {
      fixture = await startServiceFixture();
    }, 120_000);

    afterAll(async () => {
      await fixture?.close();
    }, 60_000);

    // The first attempt runs long enough to be running still when the
    // other worker takes the step over; the replacement ends soon.
    const CONFIG = `- step:
    name: slow
    image: ${BUSYBOX_IMAGE}
    command:
      - echo begin
      - 'echo ''{"stage": 1}'''
      - 'case "$VH_JOB_ID" in *-1) sleep 300 ;; esac'
      - echo finished-once
`;

    it('is replaced by the other: the lost Pod deleted before the new one exists, the step completed once', async () => {
      const workers: WorkerProcess[] = [];
      for (const id of ['kube-w1', 'kube-w2']) {
        workers.push(
          await fixture.spawnWorker({
            id,
            runtime: 'kubernetes',
            env: clusterEnv(),
          }),
        );
      }
      const pods = await watchKilnPods(kube!.kubeconfig);
      const created = await fixture.startRun(CONFIG, 'slow');
      const ofRun = (pod: { labels: Record<string, string> }) =>
        pod.labels['kiln.run'] === created.id;

      // Output and metrics reach the store while the step runs in its Pod.
      let holder: string | undefined;
      await waitFor(
        'the step running, its output stored',
        180_000,
        async () => {
          const [node] = (await fixture.getRun(created.id)).nodes;
          if (node?.status !== 'started' || node.phase !== 'running')
            return false;
          const id = node.executionId as string;
          holder = node.worker;
          const metrics = await fixture.deps.executions.readMetrics(id);
          return (
            (await fixture.logText(id)).includes('begin') &&
            metrics.some((event) => event.values.stage === 1)
          );
        },
      ).catch(async (error: unknown) => {
        throw new Error(
          `${String(error)}\n${await fixture.describe(created.id)}`,
        );
      });
      expect(pods.pods().filter(ofRun)).toHaveLength(1);
      const victim = workers.find((worker) => worker.id === holder)!;
      const survivor = workers.find((worker) => worker !== victim)!;
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBeNull();

      const done = await waitForRun(
        fixture,
        created.id,
        (item) => item.status === 'complete' || item.status === 'error',
        180_000,
      );
      // The last attempt's Pod is deleted before its end is reported; the
      // watch may hear of it a moment later.
      await waitFor("the last attempt's Pod to be deleted", 30_000, () =>
        pods
          .pods()
          .some(
            (pod) =>
              pod.executionId === done.nodes[0]?.executionId &&
              pod.deletedAt !== undefined,
          ),
      );
      await pods.stop();

      expect(done.status, await fixture.describe(done.id)).toBe('complete');
      const [node] = done.nodes;
      expect(node).toMatchObject({ status: 'complete', attempt: 2 });
      const executions = await fixture.executionsOf(done);
      expect(
        executions.map((item) => [item.attempt, item.status, item.worker]),
      ).toEqual([
        [2, 'complete', survivor.id],
        [1, 'error', victim.id],
      ]);
      const [replacement, lost] = executions as [
        ExecutionRecord,
        ExecutionRecord,
      ];
      expect(lost.endReason).toEqual({
        kind: 'infra-error',
        message: `worker ${victim.id} was lost; attempt 2 takes over`,
      });
      // One Pod per attempt; the lost one deleted (by the survivor) before
      // the replacement's was created; none left.
      const [lostPod, newPod] = pods.pods().filter(ofRun);
      expect([lostPod?.executionId, newPod?.executionId]).toEqual([
        lost.id,
        replacement.id,
      ]);
      expect(lostPod?.labels['kiln.worker']).toBe(victim.id);
      expect(newPod?.labels['kiln.worker']).toBe(survivor.id);
      expect(lostPod!.deletedAt!).toBeLessThan(newPod!.addedAt);
      expect(pods.mostAtOnce(ofRun)).toBe(1);
      expect(await leftovers()).toEqual([]);
      expect(survivor.output()).toContain(
        `removing a leftover Pod of execution ${lost.id}`,
      );
      // The step's work done once, in the replacement's own log.
      const log = await fixture.logText(replacement.id);
      expect(
        log.split('\n').filter((line) => line === 'finished-once'),
      ).toEqual(['finished-once']);
      expect(replacement.metrics).toEqual({ stage: 1 });
      expect(await fixture.logText(lost.id)).not.toContain('finished-once');
    }, 300_000);
  });
});
