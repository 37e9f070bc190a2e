/**
 * KubernetesRuntime against a real cluster: kube-apiserver + etcd, the
 * scheduler and a kubelet (dockershim on the local Docker engine), started
 * by scripts/start-kube.sh. Every Pod here is scheduled and really runs; the
 * runtime talks only to the API server.
 */
import { randomUUID } from 'node:crypto';
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutputRecorder } from '../../../src/metrics/output-recorder.js';
import type { MetricsEvent } from '../../../src/model/execution.js';
import { buildPod } from '../../../src/runtime/kubernetes/build-pod.js';
import { KubernetesRuntime } from '../../../src/runtime/kubernetes/kubernetes-runtime.js';
import type { KubernetesRuntimeOptions } from '../../../src/runtime/kubernetes/kubernetes-runtime.js';
import { loadKubeConfig } from '../../../src/runtime/kubernetes/load-kube-config.js';
import { parseEnvironments } from '../../../src/runtime/kubernetes/load-environments.js';
import { RuntimeError } from '../../../src/runtime/runtime.js';
import type { OutputSink, StepSpec } from '../../../src/runtime/runtime.js';
import {
  haveKube,
  startKube,
  type TestKube,
} from '../../helpers/kube-cluster.js';
import {
  BUSYBOX_IMAGE,
  PYTHON_IMAGE,
  haveImage,
} from '../../helpers/services.js';

const ok = haveImage(BUSYBOX_IMAGE) && haveKube();
const MB = 1024 * 1024;

function collect(onStdout?: (text: string) => void) {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink: OutputSink = {
    stdout(chunk) {
      out.push(Buffer.from(chunk));
      onStdout?.(Buffer.concat(out).toString());
    },
    stderr(chunk) {
      err.push(Buffer.from(chunk));
    },
  };
  return {
    sink,
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => Buffer.concat(err).toString(),
  };
}

describe.skipIf(!ok)(
  'KubernetesRuntime (real kube-apiserver and kubelet)',
  () => {
    let kube: TestKube | null = null;
    let kubeConfig: KubeConfig;
    let core: CoreV1Api;
    const workerId = `test-${randomUUID().slice(0, 8)}`;
    const tempDirs: string[] = [];
    const environments = parseEnvironments(
      [
        'environments:',
        '  test-pool:',
        '    nodeSelector: { kiln.dev/test-node: "true" }',
        '  nowhere:',
        '    nodeSelector: { kiln.dev/pool: gpu-that-does-not-exist }',
      ].join('\n'),
      'test environments',
    );

    beforeAll(async () => {
      kube = await startKube({ node: true });
      if (kube === null) throw new Error('no cluster');
      kubeConfig = loadKubeConfig({ kubeconfig: kube.kubeconfig }).kubeConfig;
      core = kubeConfig.makeApiClient(CoreV1Api);
    }, 900_000);

    afterAll(async () => {
      await kube?.stop();
      for (const dir of tempDirs)
        await rm(dir, { recursive: true, force: true });
    }, 120_000);

    function runtimeWith(
      options: Partial<KubernetesRuntimeOptions> = {},
    ): KubernetesRuntime {
      return new KubernetesRuntime({
        kubeConfig,
        workerId,
        helperImage: BUSYBOX_IMAGE,
        environments,
        imagePullGraceMs: 0,
        ...options,
      });
    }

    async function folders() {
      const root = await mkdtemp(join(tmpdir(), 'kiln-kube-step-'));
      tempDirs.push(root);
      const dirs = {
        repository: join(root, 'repository'),
        inputs: join(root, 'inputs'),
        outputs: join(root, 'outputs'),
        config: join(root, 'config'),
      };
      for (const dir of Object.values(dirs))
        await mkdir(dir, { recursive: true });
      await mkdir(join(dirs.inputs, 'dataset'), { recursive: true });
      await writeFile(join(dirs.repository, 'train.sh'), 'echo training\n', {
        mode: 0o755,
      });
      const deep = join(dirs.repository, 'a'.repeat(60), 'b'.repeat(60));
      await mkdir(deep, { recursive: true });
      await writeFile(join(deep, 'long-name.txt'), 'deep\n');
      await writeFile(join(dirs.inputs, 'dataset', 'rows.csv'), 'x,y\n1,2\n');
      await writeFile(
        join(dirs.config, 'parameters.json'),
        '{"learning_rate": 0.1}\n',
      );
      return dirs;
    }

    function specFor(
      dirs: Awaited<ReturnType<typeof folders>>,
      commands: string[],
      overrides: Partial<StepSpec> = {},
    ): StepSpec {
      return {
        executionId: `t-${randomUUID().slice(0, 13)}`,
        attempt: 1,
        image: BUSYBOX_IMAGE,
        commands,
        env: { VH_OUTPUTS_DIR: '/valohai/outputs', API_TOKEN: 'tok-123' },
        workdir: '/valohai/repository',
        mounts: [
          {
            hostPath: dirs.repository,
            containerPath: '/valohai/repository',
            readOnly: true,
          },
          {
            hostPath: dirs.inputs,
            containerPath: '/valohai/inputs',
            readOnly: true,
          },
          {
            hostPath: dirs.outputs,
            containerPath: '/valohai/outputs',
            readOnly: false,
          },
          {
            hostPath: dirs.config,
            containerPath: '/valohai/config',
            readOnly: true,
          },
        ],
        network: false,
        resources: {},
        labels: { 'kiln.run': 'r-test' },
        stopGraceMs: 3_000,
        ...overrides,
      };
    }

    async function kilnPods(): Promise<V1Pod[]> {
      const list = await core.listNamespacedPod({
        namespace: 'default',
        labelSelector: `kiln.managed=true,kiln.worker=${workerId}`,
      });
      return list.items;
    }

    it('runs a step in a Pod: output and metrics live, folders in, outputs back', async () => {
      const dirs = await folders();
      const metrics: MetricsEvent[] = [];
      const recorder = createOutputRecorder({
        onLogLines: () => undefined,
        onMetrics: (event) => metrics.push(event),
      });
      const out = collect();
      const sink: OutputSink = {
        stdout(chunk) {
          recorder.stdout(chunk);
          out.sink.stdout(chunk);
        },
        stderr(chunk) {
          recorder.stderr(chunk);
          out.sink.stderr(chunk);
        },
      };
      const spec = specFor(
        dirs,
        [
          './train.sh',
          'cat /valohai/inputs/dataset/rows.csv',
          "sed 's/^/config: /' /valohai/config/parameters.json",
          'cat /valohai/repository/aaaa*/bbbb*/long-name.txt',
          `echo '{"epoch": 1, "loss": 0.25}'`,
          'echo "token=$API_TOKEN" >&2',
          'echo model > $VH_OUTPUTS_DIR/model.pkl',
          'mkdir -p /valohai/outputs/plots && echo png > /valohai/outputs/plots/a.png',
          'ln -s /etc/passwd /valohai/outputs/escape',
          'touch /valohai/inputs/dataset/rows.csv 2>/dev/null && echo inputs-writable || echo inputs-read-only',
        ],
        { environment: 'test-pool' },
      );

      const result = await runtimeWith().run(spec, sink);
      recorder.end();

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(result.exitCode).toBe(0);
      expect(out.stdout()).toContain('training\n');
      expect(out.stdout()).toContain(
        'x,y\n1,2\nconfig: {"learning_rate": 0.1}\n',
      );
      expect(out.stdout()).toContain('deep\n');
      expect(out.stdout()).toContain('inputs-read-only');
      expect(out.stderr()).toBe('token=tok-123\n');
      expect(metrics.map((event) => event.values)).toEqual([
        { epoch: 1, loss: 0.25 },
      ]);
      expect(await readFile(join(dirs.outputs, 'model.pkl'), 'utf8')).toBe(
        'model\n',
      );
      expect(await readFile(join(dirs.outputs, 'plots/a.png'), 'utf8')).toBe(
        'png\n',
      );
      // The link comes back as a link (the collector skips it), never followed.
      expect((await lstat(join(dirs.outputs, 'escape'))).isSymbolicLink()).toBe(
        true,
      );
      expect(await kilnPods()).toEqual([]);
      const secrets = await core.listNamespacedSecret({
        namespace: 'default',
        labelSelector: `kiln.worker=${workerId}`,
      });
      expect(secrets.items).toEqual([]);
    });

    it('ends at the first failing command with its exit code', async () => {
      const dirs = await folders();
      const out = collect();

      const result = await runtimeWith().run(
        specFor(dirs, ['echo before', 'exit 3', 'echo after']),
        out.sink,
      );

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 3 });
      expect(out.stdout()).toBe('before\n');
    });

    it('keeps the environment out of the Pod spec', async () => {
      const dirs = await folders();
      const spec = specFor(dirs, ['sleep 30']);
      const abort = new AbortController();
      let seen: V1Pod | undefined;
      const running = runtimeWith().run(spec, collect().sink, abort.signal);
      for (let i = 0; i < 100 && seen === undefined; i += 1) {
        seen = (await kilnPods())[0];
        if (seen === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      abort.abort();
      await running;

      const step = seen?.spec?.containers.find((c) => c.name === 'step');
      expect(step?.env?.find((e) => e.name === 'API_TOKEN')).toEqual({
        name: 'API_TOKEN',
        valueFrom: {
          secretKeyRef: { name: `${seen?.metadata?.name}-env`, key: 'e1' },
        },
      });
      expect(JSON.stringify(seen)).not.toContain('tok-123');
    });

    it('reports a Pod killed for memory as out of memory, with the limit', async () => {
      const dirs = await folders();

      const result = await runtimeWith().run(
        specFor(dirs, ['dd if=/dev/zero of=/dev/null bs=64M count=1'], {
          resources: { memoryBytes: 16 * MB },
        }),
        collect().sink,
      );

      expect(result.reason).toEqual({
        kind: 'out-of-memory',
        limitBytes: 16 * MB,
      });
    });

    it('stops a step past its deadline and still brings back what it wrote', async () => {
      const dirs = await folders();
      const started = Date.now();

      const out = collect();
      const result = await runtimeWith().run(
        specFor(
          dirs,
          [
            'echo partial > /valohai/outputs/partial.txt',
            'echo started',
            'sleep 60',
          ],
          { timeLimitMs: 3_000 },
        ),
        out.sink,
      );

      expect(result.reason).toEqual({ kind: 'timed-out', afterMs: 3_000 });
      const stepMs = result.endedAt.getTime() - result.startedAt.getTime();
      expect(stepMs).toBeGreaterThanOrEqual(2_500);
      expect(Date.now() - started).toBeLessThan(45_000);
      // The step's stderr says why when its outputs were not taken.
      expect(out.stderr()).not.toContain('kiln:');
      expect(await readFile(join(dirs.outputs, 'partial.txt'), 'utf8')).toBe(
        'partial\n',
      );
    });

    it("reports the cluster's own deadline (a worker's timer that never fired) as timed out", async () => {
      const dirs = await folders();
      let patched = false;
      const out = collect((text) => {
        if (!text.includes('started') || patched) return;
        patched = true;
        // What a Pod whose worker stopped timing it meets: the kubelet's
        // activeDeadlineSeconds, here brought forward to now.
        void kilnPods().then((pods) =>
          core.patchNamespacedPod({
            namespace: 'default',
            name: pods[0]!.metadata!.name!,
            body: [
              { op: 'replace', path: '/spec/activeDeadlineSeconds', value: 1 },
            ],
          }),
        );
      });

      const result = await runtimeWith().run(
        specFor(dirs, ['echo started', 'sleep 60'], { timeLimitMs: 120_000 }),
        out.sink,
      );

      expect(result.reason).toEqual({ kind: 'timed-out', afterMs: 120_000 });
      expect(await kilnPods()).toEqual([]);
    });

    it('gives up on a Pod no node can take (UNSCHEDULABLE) and deletes it', async () => {
      const dirs = await folders();
      const runtime = runtimeWith({ unschedulableTimeoutMs: 2_000 });

      const error = await runtime
        .run(
          specFor(dirs, ['echo never'], { environment: 'nowhere' }),
          collect().sink,
        )
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe('UNSCHEDULABLE');
      expect((error as RuntimeError).message).toMatch(/node\(s\) didn't match/);
      expect(await kilnPods()).toEqual([]);
    });

    it('refuses a step whose environment the operator did not map', async () => {
      const dirs = await folders();

      const error = await runtimeWith()
        .run(
          specFor(dirs, ['true'], { environment: 'gpu-a100' }),
          collect().sink,
        )
        .catch((caught: unknown) => caught);

      expect((error as RuntimeError).code).toBe('START_FAILED');
      expect((error as RuntimeError).message).toContain(
        'environment "gpu-a100" is not in the environments file test environments (known: test-pool, nowhere)',
      );
    });

    it('fails with IMAGE_UNAVAILABLE when the cluster cannot pull the image', async () => {
      const dirs = await folders();

      const error = await runtimeWith()
        .run(
          specFor(dirs, ['true'], { image: 'kiln-test/not-there:1' }),
          collect().sink,
        )
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe('IMAGE_UNAVAILABLE');
      expect((error as RuntimeError).message).toContain(
        'kiln-test/not-there:1',
      );
      expect(await kilnPods()).toEqual([]);
    });

    it('cancels mid-step: SIGTERM, the grace period, outputs back, the Pod deleted', async () => {
      const dirs = await folders();
      const abort = new AbortController();
      const out = collect((text) => {
        if (text.includes('ready')) abort.abort();
      });

      const result = await runtimeWith().run(
        specFor(dirs, [
          'trap "echo saved > /valohai/outputs/saved.txt; exit 5" TERM',
          'echo ready',
          'while :; do sleep 1; done',
        ]),
        out.sink,
        abort.signal,
      );

      expect(result.reason).toEqual({ kind: 'stopped' });
      expect(result.exitCode).toBe(5);
      expect(await readFile(join(dirs.outputs, 'saved.txt'), 'utf8')).toBe(
        'saved\n',
      );
      expect(await kilnPods()).toEqual([]);
    });

    it('lets the running program see SIGTERM and finish saving', async () => {
      if (!haveImage(PYTHON_IMAGE)) return;
      const dirs = await folders();
      const abort = new AbortController();
      const out = collect((text) => {
        if (text.includes('ready')) abort.abort();
      });

      const result = await runtimeWith().run(
        specFor(
          dirs,
          [
            `python3 -c "
import signal, sys, time
def stop(*_):
    time.sleep(1)
    open('/valohai/outputs/checkpoint.txt', 'w').write('epoch 3')
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print('ready', flush=True)
time.sleep(60)"`,
          ],
          { image: PYTHON_IMAGE },
        ),
        out.sink,
        abort.signal,
      );

      expect(result.reason).toEqual({ kind: 'stopped' });
      expect(await readFile(join(dirs.outputs, 'checkpoint.txt'), 'utf8')).toBe(
        'epoch 3',
      );
    });

    it('treats a Pod deleted under a running step as lost (POD_LOST)', async () => {
      const dirs = await folders();
      let name: string | undefined;
      const out = collect((text) => {
        if (text.includes('running') && name === undefined) {
          void kilnPods().then((pods) => {
            name = pods[0]?.metadata?.name;
            return core.deleteNamespacedPod({
              namespace: 'default',
              name: name!,
              gracePeriodSeconds: 0,
            });
          });
        }
      });

      const error = await runtimeWith()
        .run(specFor(dirs, ['echo running', 'sleep 60']), out.sink)
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe('POD_LOST');
    });

    it('replaces a leftover Pod of the same attempt', async () => {
      const dirs = await folders();
      const spec = specFor(dirs, ['echo second']);
      const leftover = buildPod({
        spec: { ...spec, commands: ['sleep 300'] },
        namespace: 'default',
        workerId,
        files: 'host-path',
        helperImage: BUSYBOX_IMAGE,
      });
      if (!leftover.ok) throw new Error(leftover.problem);
      await core.createNamespacedPod({
        namespace: 'default',
        body: leftover.pod as V1Pod,
      });
      const out = collect();

      const result = await runtimeWith().run(spec, out.sink);

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(out.stdout()).toBe('second\n');
      expect(await kilnPods()).toEqual([]);
    });

    it('reaps its Pods by label and keeps the executions asked for', async () => {
      const dirs = await folders();
      const keep = specFor(dirs, ['sleep 300']);
      const reap = specFor(dirs, ['sleep 300']);
      const other = specFor(dirs, ['sleep 300']);
      for (const [spec, owner] of [
        [keep, workerId],
        [reap, workerId],
        [other, 'someone-else'],
      ] as const) {
        const built = buildPod({
          spec,
          namespace: 'default',
          workerId: owner,
          files: 'host-path',
          helperImage: BUSYBOX_IMAGE,
        });
        if (!built.ok) throw new Error(built.problem);
        await core.createNamespacedPod({
          namespace: 'default',
          body: built.pod as V1Pod,
        });
      }

      const removed = await runtimeWith().reapOrphans(
        new Set([keep.executionId]),
      );

      expect(removed).toBe(1);
      const left = await core.listNamespacedPod({
        namespace: 'default',
        labelSelector: 'kiln.managed=true',
      });
      const names = left.items
        .filter((pod) => pod.metadata?.deletionTimestamp === undefined)
        .map((pod) => pod.metadata?.annotations?.['kiln.execution'])
        .sort();
      expect(names).toEqual([keep.executionId, other.executionId].sort());
      await runtimeWith({ workerId: 'someone-else' }).reapOrphans();
      await runtimeWith().reapOrphans();
    });

    it("removes an execution's Pod and Secret whichever worker made them (a takeover)", async () => {
      const dirs = await folders();
      const lost = specFor(dirs, ['sleep 300']);
      const kept = specFor(dirs, ['sleep 300']);
      for (const spec of [lost, kept]) {
        const built = buildPod({
          spec,
          namespace: 'default',
          workerId: 'lost-worker',
          files: 'host-path',
          helperImage: BUSYBOX_IMAGE,
        });
        if (!built.ok) throw new Error(built.problem);
        await core.createNamespacedSecret({
          namespace: 'default',
          body: built.secret!.toJSON() as V1Secret,
        });
        await core.createNamespacedPod({
          namespace: 'default',
          body: built.pod as V1Pod,
        });
      }
      const ofLostWorker = async () => {
        const request = {
          namespace: 'default',
          labelSelector: 'kiln.managed=true,kiln.worker=lost-worker',
        };
        const pods = await core.listNamespacedPod(request);
        const secrets = await core.listNamespacedSecret(request);
        return [...pods.items, ...secrets.items]
          .map((item) => item.metadata?.annotations?.['kiln.execution'])
          .sort();
      };

      await runtimeWith().removeExecution(lost.executionId);
      await runtimeWith().removeExecution(lost.executionId);

      expect(await ofLostWorker()).toEqual([
        kept.executionId,
        kept.executionId,
      ]);
      await runtimeWith({ workerId: 'lost-worker' }).reapOrphans();
    });

    it('checks at start that its namespace exists and takes Pods and Secrets, creating nothing', async () => {
      const fine = await runtimeWith().checkNamespace();
      const missing = await runtimeWith({
        namespace: 'kiln-nowhere',
      }).checkNamespace();

      expect(fine).toBeNull();
      expect(missing).toMatch(
        /^namespace kiln-nowhere does not exist \(HTTP 404: .*\): create it \(kubectl create namespace kiln-nowhere\) or set KILN_KUBERNETES_NAMESPACE$/,
      );
      const request = { namespace: 'default' };
      const created = [
        ...(await core.listNamespacedPod(request)).items,
        ...(await core.listNamespacedSecret(request)).items,
      ].filter((item) => item.metadata?.name?.startsWith('kiln-check-'));
      expect(created).toEqual([]);
    });

    it('mounts the worker folders from the node with KILN_KUBERNETES_FILES=host-path', async () => {
      const dirs = await folders();
      const out = collect();

      const result = await runtimeWith({ files: 'host-path' }).run(
        specFor(dirs, [
          'cat /valohai/inputs/dataset/rows.csv',
          'echo direct > /valohai/outputs/direct.txt',
        ]),
        out.sink,
      );

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(out.stdout()).toBe('x,y\n1,2\n');
      expect(await readFile(join(dirs.outputs, 'direct.txt'), 'utf8')).toBe(
        'direct\n',
      );
    });

    it('answers ping, and false for a namespace it cannot reach', async () => {
      expect(await runtimeWith().ping()).toBe(true);
      const unreachable = loadKubeConfig({
        kubeconfig: kube!.kubeconfig,
      }).kubeConfig;
      unreachable.clusters[0] = {
        ...unreachable.clusters[0]!,
        server: 'https://127.0.0.1:1',
      };
      expect(
        await new KubernetesRuntime({ kubeConfig: unreachable }).ping(),
      ).toBe(false);
    });
  },
);
