/**
 * A cancel in every phase of a step, on a real `kiln worker` process with
 * the Docker engine: while the image is pulled (from a registry that holds
 * the layer), while an input downloads (from a server that holds the body),
 * while the step runs, and while outputs are stored. Each time the run ends `cancelled` with
 * its reason, the node `stopped`, no container is left, and nothing is
 * written after the cancel — the worker's late reports are refused.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/control/cancel-run.js';
import type { RunRecord } from '../../../src/model/run.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';
import {
  startSlowRegistry,
  type SlowRegistry,
} from '../../helpers/slow-registry-process.js';
import {
  containersOf,
  startServiceFixture,
  waitFor,
  waitForRun,
  workerOfRunningContainer,
  type ServiceFixture,
  type WorkerProcess,
} from './service-fixture.js';

const ok = haveRedis() && haveImage(BUSYBOX_IMAGE);

function stepConfig(options: {
  image?: string;
  command: string;
  input?: string;
}): string {
  return [
    '- step:',
    '    name: work',
    `    image: ${options.image ?? BUSYBOX_IMAGE}`,
    `    command: ${JSON.stringify(options.command)}`,
    ...(options.input
      ? [
          '    inputs:',
          '      - name: data',
          `        default: ${options.input}`,
        ]
      : []),
    '',
  ].join('\n');
}

describe.skipIf(!ok)('a cancel in every phase of a step', () => {
  let fixture: ServiceFixture;
  let worker: WorkerProcess;
  beforeAll(async () => {
    fixture = await startServiceFixture();
    worker = await fixture.spawnWorker({
      id: 'phases-w1',
      runtime: 'docker',
      concurrency: 2,
      // The input server below listens on loopback.
      env: { KILN_INPUT_PRIVATE_NETWORKS: '127.0.0.0/8' },
    });
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  /** Cancels once `phase` is reached, then checks nothing moves after. */
  async function cancelDuring(
    run: RunRecord,
    phase: string,
    ready: Promise<void>,
  ) {
    await waitForRun(
      fixture,
      run.id,
      (item) => item.nodes[0]?.phase === phase,
      120_000,
    );
    await ready;
    const jobsDone = worker.output().split('step job done').length;
    expect(
      await cancelRun(fixture.deps, {
        runId: run.id,
        reason: `cancelled by test during ${phase}`,
      }),
    ).toBe(true);
    const eventsAtCancel = (
      await fixture.deps.runs.readRunEvents(run.id, { count: 10_000 })
    ).length;
    const executionsAtCancel = await fixture.executionsOf(
      await fixture.getRun(run.id),
    );

    // The worker notices, stops, and reports an end that is refused.
    await waitFor(
      'the worker to end the step job',
      120_000,
      () => worker.output().split('step job done').length > jobsDone,
    );
    expect(worker.output()).toMatch(
      /"outcome":"stopped"[^\n]*"msg":"step job done"|"msg":"step job done"[^\n]*"outcome":"stopped"/,
    );

    const ended = await fixture.getRun(run.id);
    expect(ended).toMatchObject({
      status: 'cancelled',
      reason: `cancelled by test during ${phase}`,
    });
    expect(ended.nodes[0]).toMatchObject({
      status: 'stopped',
      message: `cancelled by test during ${phase}`,
    });
    expect(
      (await fixture.deps.runs.readRunEvents(run.id, { count: 10_000 })).length,
    ).toBe(eventsAtCancel);
    expect(await fixture.executionsOf(ended)).toEqual(executionsAtCancel);
    await waitFor(
      'no container of the run',
      60_000,
      () => containersOf(run.id).length === 0,
    );
    return ended;
  }

  it('while the image is pulled: the pull stops, no container starts, no record is made', async () => {
    const registry: SlowRegistry = await startSlowRegistry({
      from: BUSYBOX_IMAGE,
      name: 'slow/busybox',
      tag: '1',
    });
    try {
      const run = await fixture.startRun(
        stepConfig({ image: registry.image, command: 'echo never' }),
        'work',
      );

      const ended = await cancelDuring(run, 'pulling', registry.layerRequested);

      // kiln stopped waiting for the pull (dockerd may finish it on its own).
      expect(await fixture.executionsOf(ended)).toEqual([]);
    } finally {
      await registry.close();
    }
  }, 300_000);

  it('while an input downloads: the download stops, no container starts, no record is made', async () => {
    let requested: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (requested = resolve));
    let closed: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (closed = resolve));
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/csv',
        'content-length': '1000000',
      });
      res.write('a,b\n');
      res.on('close', () => closed());
      requested();
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const port = (server.address() as { port: number }).port;
    try {
      const run = await fixture.startRun(
        stepConfig({
          command: 'cat /valohai/inputs/data/data.csv',
          input: `http://127.0.0.1:${port}/data.csv`,
        }),
        'work',
      );

      const ended = await cancelDuring(run, 'inputs', arrived);

      await gone;
      expect(await fixture.executionsOf(ended)).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 300_000);

  it('while the step runs: the container is stopped and removed, the record keeps the cancel', async () => {
    const run = await fixture.startRun(
      stepConfig({ command: 'echo begins; sleep 120' }),
      'work',
    );
    const running = waitFor('the step container to run', 120_000, () =>
      Boolean(workerOfRunningContainer(run.id)),
    );

    const ended = await cancelDuring(run, 'running', running);

    const [execution] = await fixture.executionsOf(ended);
    expect(execution).toMatchObject({
      status: 'stopped',
      endReason: { kind: 'stopped' },
    });
    expect(await fixture.logText(execution?.id ?? '')).toContain('begins');
  }, 300_000);

  it('while outputs are stored: no output is recorded, the record keeps the cancel', async () => {
    const run = await fixture.startRun(
      stepConfig({
        command:
          'dd if=/dev/zero of=/valohai/outputs/big.bin bs=1048576 count=1024 2>/dev/null',
      }),
      'work',
    );

    const ended = await cancelDuring(run, 'uploading', Promise.resolve());

    const [execution] = await fixture.executionsOf(ended);
    expect(execution).toMatchObject({
      status: 'stopped',
      outputs: [],
      endReason: { kind: 'stopped' },
    });
  }, 300_000);
});
