/**
 * A push whose trigger runs a task: the intake worker creates a run of
 * the task (kind `task`), pinned to the pushed SHA, its task node queued
 * for a worker to expand.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedis } from '../../helpers/services.js';
import {
  pushPayload,
  startIntakeFixture,
  type IntakeFixture,
} from './intake-fixture.js';

const CONFIG = `
- step:
    name: train
    image: busybox
    command: train {parameters}
    parameters: [{name: lr, type: float, default: 0.1}]
- task:
    name: sweep
    step: train
    parameters:
      - {name: lr, style: multiple, rules: {items: [0.1, 0.01]}}
- trigger:
    name: nightly-sweep
    on: [push]
    run: sweep
`;

describe.skipIf(!haveRedis())('a trigger that runs a task', () => {
  let fixture: IntakeFixture;
  beforeAll(async () => {
    fixture = await startIntakeFixture();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('creates a run of the task for a matching push', async () => {
    const sha = fixture.push('main', { 'kiln.yaml': CONFIG });
    const delivery = randomUUID();

    const response = await fixture.post({
      event: 'push',
      delivery,
      payload: pushPayload({
        bareDir: fixture.bareDir,
        branch: 'main',
        after: sha,
      }),
    });
    const outcome = await fixture.waitForOutcome(delivery);

    expect(response.status).toBe(202);
    expect(outcome).toMatchObject({ status: 'runs-created', sha });
    const run = await fixture.control.runs.getRun(outcome.runIds[0] ?? '');
    expect(run).toMatchObject({
      kind: 'task',
      name: 'sweep',
      commit: sha,
      status: 'queued',
    });
    expect(run?.nodes.map((node) => [node.name, node.status])).toEqual([
      ['sweep', 'queued'],
    ]);
  });
});
