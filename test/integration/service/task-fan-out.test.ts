/**
 * Dynamic fan-out on a real worker and Docker: a pipeline whose task node
 * takes its parameter from an upstream node's metadata (a list) runs one
 * child per item, and every child's output reaches the node after the
 * task through an ordinary output → input edge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerAvailable, haveRedis, inCi } from '../../helpers/services.js';
import {
  startServiceFixture,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

const ready = haveRedis() && (inCi || dockerAvailable());

const CONFIG = `
- step:
    name: prepare
    image: kiln-test/busybox:1
    command: >-
      echo '{"datasets": ["harbor_a", "harbor_b", "harbor_c"]}'
- step:
    name: train
    image: kiln-test/busybox:1
    command: >-
      echo model of {parameter-value:dataset}
      > /valohai/outputs/{parameter-value:dataset}.model
    parameters:
      - {name: dataset, type: string, default: all}
- step:
    name: predict
    image: kiln-test/busybox:1
    command: cat /valohai/inputs/models/*
    inputs:
      - {name: models}
- pipeline:
    name: fan-out
    nodes:
      - {name: prepare, type: execution, step: prepare}
      - {name: train, type: task, step: train}
      - {name: predict, type: execution, step: predict}
    edges:
      - [prepare.metadata.datasets, train.parameter.dataset]
      - [train.output.*.model, predict.input.models]
`;

describe.skipIf(!ready)('a task node fed by upstream metadata', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
    // One process: its file artifact store serves every node's outputs.
    await fixture.spawnWorker({
      id: 'fan-w1',
      runtime: 'docker',
      concurrency: 3,
    });
  }, 180_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  it('fans out to one child per item and feeds the node after it', async () => {
    const created = await fixture.startRun(CONFIG, 'fan-out');

    const run = await waitForRun(
      fixture,
      created.id,
      (state) => !['created', 'queued', 'running'].includes(state.status),
      240_000,
    );

    expect(run.status, await fixture.describe(run.id)).toBe('complete');
    const executions = await fixture.executionsOf(run);
    const children = executions
      .filter((execution) => execution.node?.startsWith('train#'))
      .map((execution) => execution.parameters.dataset)
      .sort();
    expect(children).toEqual(['harbor_a', 'harbor_b', 'harbor_c']);
    const predict = executions.find(
      (execution) => execution.node === 'predict',
    );
    expect(predict?.inputs.map((file) => file.name).sort()).toEqual([
      'harbor_a.model',
      'harbor_b.model',
      'harbor_c.model',
    ]);
    const log = await fixture.logText(predict?.id ?? '');
    expect(log.split('\n').sort()).toEqual([
      'model of harbor_a',
      'model of harbor_b',
      'model of harbor_c',
    ]);
  }, 300_000);
});
