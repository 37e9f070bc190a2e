/**
 * The worker's decisions, with fakes for everything it drives (runtime,
 * git, artifacts) and the in-memory stores: what it reports in each phase,
 * and that once a node is taken from it (a cancel, a takeover) it stops
 * and writes nothing more. The same paths run against Docker and Redis in
 * test/integration/service.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../../src/artifacts/fs-artifact-store.js';
import { cancelRun } from '../../../src/control/cancel-run.js';
import { createRun } from '../../../src/control/create-run.js';
import type { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import type { RunRecord } from '../../../src/model/run.js';
import type { StepJob } from '../../../src/queue/step-jobs.js';
import {
  RuntimeError,
  type OutputSink,
  type PreparedImage,
  type RunResult,
  type Runtime,
  type StepSpec,
} from '../../../src/runtime/runtime.js';
import { createAttemptGuard } from '../../../src/worker/attempt-guard.js';
import { executeNode, RetryLater } from '../../../src/worker/execute-node.js';
import { createNodeCache } from '../../../src/worker/node-cache.js';
import type { WorkerDeps } from '../../../src/worker/worker-deps.js';
import {
  createMemoryStores,
  type MemoryStores,
} from '../../helpers/memory-stores.js';

const CONFIG = `
- step:
    name: train
    image: busybox
    command: python train.py
- step:
    name: evaluate
    image: busybox
    command: python evaluate.py
- pipeline:
    name: p
    nodes:
      - {name: train, type: execution, step: train}
      - {name: evaluate, type: execution, step: evaluate}
    edges:
      - [train.output.model*, evaluate.input.model]
`;

/** A gate a fake waits at until the test (or an abort) opens it. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let reached: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  return { open, opened, reached, arrived };
}

interface FakeRuntime extends Runtime {
  present: boolean;
  pull?: ReturnType<typeof gate>;
  running?: ReturnType<typeof gate>;
  outputs: Record<string, string>;
  failWith?: Error;
  runs: StepSpec[];
  removed: string[];
}

function fakeRuntime(): FakeRuntime {
  const runtime: FakeRuntime = {
    kind: 'docker',
    present: true,
    outputs: {},
    runs: [],
    removed: [],
    async findImage(image): Promise<PreparedImage | null> {
      return runtime.present ? { image, digest: 'sha256:abc' } : null;
    },
    async prepareImage(image, signal): Promise<PreparedImage> {
      if (runtime.pull) {
        runtime.pull.reached();
        await Promise.race([
          runtime.pull.opened,
          new Promise((_resolve, reject) =>
            signal?.addEventListener('abort', () => reject(signal.reason)),
          ),
        ]);
      }
      return { image, digest: 'sha256:abc' };
    },
    async run(
      spec: StepSpec,
      sink: OutputSink,
      signal?: AbortSignal,
    ): Promise<RunResult> {
      runtime.runs.push(spec);
      if (runtime.failWith) throw runtime.failWith;
      const startedAt = new Date();
      sink.stdout(Buffer.from('{"loss": 0.25}\nhello\n'));
      let stopped = false;
      if (runtime.running) {
        runtime.running.reached();
        await Promise.race([
          runtime.running.opened,
          new Promise<void>((resolve) =>
            signal?.addEventListener('abort', () => {
              stopped = true;
              resolve();
            }),
          ),
        ]);
      }
      const outputs = spec.mounts.find(
        (mount) => mount.containerPath === '/valohai/outputs',
      );
      for (const [name, content] of Object.entries(runtime.outputs)) {
        if (outputs) writeFileSync(join(outputs.hostPath, name), content);
      }
      return {
        reason: stopped ? { kind: 'stopped' } : { kind: 'exited', exitCode: 0 },
        exitCode: stopped ? null : 0,
        startedAt,
        endedAt: new Date(),
      };
    },
    async removeExecution(executionId) {
      runtime.removed.push(executionId);
    },
    async reapOrphans() {
      return 0;
    },
    async ping() {
      return true;
    },
  };
  return runtime;
}

describe('executeNode', () => {
  let dir: string;
  let stores: MemoryStores;
  let runtime: FakeRuntime;
  let deps: WorkerDeps;
  let run: RunRecord;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-worker-unit-'));
    stores = createMemoryStores();
    runtime = fakeRuntime();
    const git = {
      acquireTree: async () => ({ path: dir, release: async () => undefined }),
    } as unknown as GitMaterialiser;
    deps = {
      ...stores.deps(),
      git,
      runtime,
      artifacts: new FsArtifactStore(join(dir, 'artifacts')),
      stops: stores.stops,
      workDir: join(dir, 'work'),
      host: 'test-host',
      workerId: 'w1',
    };
    run = await createRun(deps, {
      repository: 'acme/models',
      source: { id: 'acme/models', url: dir },
      commit: 'a'.repeat(40),
      name: 'p',
      configText: CONFIG,
      configFile: 'kiln.yaml',
    });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const tools = () => ({
    cache: createNodeCache(deps),
    guard: createAttemptGuard({ runs: deps.runs, stops: deps.stops }),
  });
  const jobOf = (node: string): StepJob => {
    const found = [...stores.steps.jobs]
      .reverse()
      .find((item) => item.job.node === node);
    if (!found) throw new Error(`no job for ${node}`);
    return found.job;
  };
  const nodeOf = async (name: string) =>
    (await stores.runs.getNodes(run.id, [name]))[0];

  it('runs a step: claim, run, end, and queues what follows with the edge', async () => {
    runtime.outputs = { 'model.pkl': 'weights' };

    const outcome = await executeNode(deps, tools(), jobOf('train'), {
      lastAttempt: false,
    });

    expect(outcome).toBe('complete');
    const node = await nodeOf('train');
    expect(node).toMatchObject({
      status: 'complete',
      attempt: 1,
      executionId: `${run.id}-0-1`,
    });
    const record = await deps.executions.getExecution(`${run.id}-0-1`);
    expect(record).toMatchObject({
      status: 'complete',
      metrics: { loss: 0.25 },
      counter: 1,
    });
    expect(record?.outputs.map((file) => file.path)).toEqual(['model.pkl']);
    // The step's image (`busybox`) has no tag: the log says so first.
    expect(stores.logs.get(`${run.id}-0-1`)?.map((line) => line.text)).toEqual([
      '[kiln] image busybox is not pinned (no tag): the digest it ran, sha256:abc, is recorded; pin a tag or digest',
      '{"loss": 0.25}',
      'hello',
    ]);
    expect(jobOf('evaluate')).toMatchObject({
      generation: 1,
      upstream: { train: `${run.id}-0-1` },
    });
  });

  it('a cancel during the image pull stops the pull: no container, no record, no later write', async () => {
    runtime.present = false;
    runtime.pull = gate();

    const running = executeNode(deps, tools(), jobOf('train'), {
      lastAttempt: false,
    });
    await runtime.pull.arrived;
    await cancelRun(deps, { runId: run.id, reason: 'cancelled by alice' });
    const outcome = await running;

    expect(outcome).toBe('stopped');
    expect(runtime.runs).toEqual([]);
    expect(await deps.executions.getExecution(`${run.id}-0-1`)).toBeNull();
    expect(await nodeOf('train')).toMatchObject({
      status: 'stopped',
      message: 'cancelled by alice',
    });
    expect((await stores.runs.getRun(run.id))?.status).toBe('cancelled');
  });

  it('a cancel while the step runs stops it; the record keeps the cancel, not the worker end', async () => {
    runtime.running = gate();
    const changes = () => stores.changes.length;

    const running = executeNode(deps, tools(), jobOf('train'), {
      lastAttempt: false,
    });
    await runtime.running.arrived;
    await cancelRun(deps, { runId: run.id, reason: 'cancelled by alice' });
    const after = changes();
    const outcome = await running;

    expect(outcome).toBe('stopped');
    expect(changes()).toBe(after);
    const record = await deps.executions.getExecution(`${run.id}-0-1`);
    expect(record).toMatchObject({
      status: 'stopped',
      endReason: { kind: 'stopped' },
    });
    expect((await stores.runs.getRun(run.id))?.reason).toBe(
      'cancelled by alice',
    );
  });

  it('a cancel while outputs are stored: no output is recorded', async () => {
    runtime.outputs = { 'model.pkl': 'weights' };
    const storing = gate();
    const put = deps.artifacts.put.bind(deps.artifacts);
    deps.artifacts.put = async (path) => {
      storing.reached();
      await storing.opened;
      return put(path);
    };

    const running = executeNode(deps, tools(), jobOf('train'), {
      lastAttempt: false,
    });
    await storing.arrived;
    expect(await nodeOf('train')).toMatchObject({
      status: 'started',
      phase: 'uploading',
    });
    await cancelRun(deps, { runId: run.id, reason: 'cancelled by alice' });
    storing.open();
    const outcome = await running;

    expect(outcome).toBe('stopped');
    const record = await deps.executions.getExecution(`${run.id}-0-1`);
    expect(record).toMatchObject({ status: 'stopped', outputs: [] });
  });

  it('a worker that lost its node to another (a takeover) writes nothing when it resumes', async () => {
    runtime.running = gate();
    const first = executeNode(deps, tools(), jobOf('train'), {
      lastAttempt: false,
    });
    await runtime.running.arrived;

    // The job comes back to another worker (the first one's lock lapsed).
    const second = executeNode(
      { ...deps, workerId: 'w2' },
      tools(),
      jobOf('train'),
      { lastAttempt: false },
    );
    runtime.running.open();
    const outcomes = await Promise.all([first, second]);

    expect(outcomes).toEqual(['stopped', 'complete']);
    expect(runtime.removed).toEqual([`${run.id}-0-1`]);
    expect(await nodeOf('train')).toMatchObject({
      status: 'complete',
      attempt: 2,
      executionId: `${run.id}-0-2`,
    });
    expect(await deps.executions.getExecution(`${run.id}-0-1`)).toMatchObject({
      status: 'error',
      endReason: {
        kind: 'infra-error',
        message: 'worker w1 was lost; attempt 2 takes over',
      },
    });
  });

  it('an infrastructure failure hands the job back to the queue, and the last attempt ends the node', async () => {
    runtime.failWith = new RuntimeError(
      'ENGINE_UNREACHABLE',
      'the Docker engine did not answer',
    );

    await expect(
      executeNode(deps, tools(), jobOf('train'), { lastAttempt: false }),
    ).rejects.toBeInstanceOf(RetryLater);
    expect(await nodeOf('train')).toMatchObject({
      status: 'queued',
      attempt: 1,
    });
    const last = await executeNode(deps, tools(), jobOf('train'), {
      lastAttempt: true,
    });

    expect(last).toBe('error');
    expect(await nodeOf('train')).toMatchObject({
      status: 'error',
      attempt: 2,
      message: 'infrastructure: the Docker engine did not answer',
    });
    expect((await stores.runs.getRun(run.id))?.status).toBe('error');
  });

  it('an image that cannot be had fails at once, without retries', async () => {
    runtime.failWith = new RuntimeError(
      'IMAGE_UNAVAILABLE',
      'image busybox is not on this Docker host',
    );

    const outcome = await executeNode(deps, tools(), jobOf('train'), {
      lastAttempt: false,
    });

    expect(outcome).toBe('error');
    expect((await nodeOf('train'))?.status).toBe('error');
  });

  it("a step outside the operator's image policy ends in error, naming the setting, before anything runs", async () => {
    deps.stepPolicy = {
      images: ['registry.example.com/**'],
      devices: 'trusted',
    };

    const outcome = await executeNode(deps, tools(), jobOf('train'), {
      lastAttempt: true,
    });

    expect(outcome).toBe('error');
    const node = await nodeOf('train');
    expect(node?.status).toBe('error');
    expect(node?.message).toContain('KILN_STEP_IMAGES');
    expect(runtime.runs).toHaveLength(0);
  });

  it('a job of an older queueing, or of a finished node, changes nothing', async () => {
    await executeNode(deps, tools(), jobOf('train'), { lastAttempt: false });
    const changes = stores.changes.length;

    const outcome = await executeNode(deps, tools(), jobOf('train'), {
      lastAttempt: false,
    });

    expect(outcome).toBe('stale');
    expect(stores.changes.length).toBe(changes);
  });
});
