/**
 * Tasks on real workers: three `kiln worker` processes (two slots each) on
 * the Docker engine and a real redis-server. A grid of 3×4 runs its 12
 * children with the right commands and never more than
 * maximum-queued-executions at once; a seeded random search gives the
 * same children twice; a manual search runs exactly its sets;
 * on-child-error and stop-condition stop or let the rest run as
 * specified; a distributed task's members all see each other in
 * distributed.json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../../src/model/execution.js';
import type { RunRecord } from '../../../src/model/run.js';
import { createRun } from '../../../src/control/create-run.js';
import { dockerAvailable, haveRedis, inCi } from '../../helpers/services.js';
import {
  startServiceFixture,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

const IMAGE = 'kiln-test/busybox:1';
const ready = haveRedis() && (inCi || dockerAvailable());

function step(command: string, parameters: string[]): string {
  return [
    '- step:',
    '    name: train',
    `    image: ${IMAGE}`,
    `    command: ${JSON.stringify(command)}`,
    '    parameters:',
    ...parameters.map((line) => `      - ${line}`),
    '',
  ].join('\n');
}

describe.skipIf(!ready)('tasks on 3 Docker workers × 2', () => {
  let fixture: ServiceFixture;
  beforeAll(async () => {
    fixture = await startServiceFixture();
    for (const id of ['task-w1', 'task-w2', 'task-w3']) {
      await fixture.spawnWorker({ id, runtime: 'docker', concurrency: 2 });
    }
  }, 180_000);
  afterAll(async () => {
    await fixture?.close();
  }, 60_000);

  async function runToEnd(
    config: string,
    name: string,
  ): Promise<{ run: RunRecord; children: ExecutionRecord[] }> {
    const created = await fixture.startRun(config, name);
    const run = await waitForRun(
      fixture,
      created.id,
      (state) => !['created', 'queued', 'running'].includes(state.status),
      240_000,
    );
    const executions = await fixture.executionsOf(run);
    const children = executions
      .filter((execution) => execution.node?.startsWith(`${name}#`))
      .sort((a, b) => childNumber(a) - childNumber(b));
    return { run, children };
  }

  it('runs a 3×4 grid as 12 children with their commands, at most 4 at once', async () => {
    const config = [
      step('echo {parameters}', [
        '{name: lr, type: float, default: 0.5}',
        '{name: depth, type: integer, default: 9}',
      ]),
      '- task:',
      '    name: grid',
      '    step: train',
      '    type: grid_search',
      '    maximum-queued-executions: 4',
      '    parameters:',
      '      - {name: lr, style: multiple, rules: {items: [0.1, 0.01, 0.001]}}',
      '      - {name: depth, style: linear, rules: {start: 1, end: 4, step: 1}}',
      '',
    ].join('\n');

    const { run, children } = await runToEnd(config, 'grid');

    expect(run.status, await fixture.describe(run.id)).toBe('complete');
    expect(run.kind).toBe('task');
    const expected = ['0.1', '0.01', '0.001'].flatMap((lr) =>
      [1, 2, 3, 4].map((depth) => `echo --lr=${lr} --depth=${depth}`),
    );
    expect(children.map((child) => child.command.join(' && '))).toEqual(
      expected,
    );
    expect(children.every((child) => child.status === 'complete')).toBe(true);
    expect(
      await maxActiveChildren(fixture, run.id, 'grid'),
    ).toBeLessThanOrEqual(4);
    expect(run.nodes.find((node) => node.name === 'grid')).toMatchObject({
      status: 'complete',
      message: '12 of 12 children complete',
    });
  }, 300_000);

  it('draws the same random search twice with a seed', async () => {
    const config = [
      step('echo {parameters}', [
        '{name: lr, type: float, default: 0.5}',
        '{name: depth, type: integer, default: 9}',
      ]),
      '- task:',
      '    name: search',
      '    step: train',
      '    type: random_search',
      '    execution-count: 4',
      '    parameters:',
      '      - {name: lr, style: random, rules: {min: 0.0001, max: 0.1, distribution: loguniform, seed: 11}}',
      '      - {name: depth, style: multiple, rules: {items: [2, 4, 8], seed: 5}}',
      '',
    ].join('\n');

    const first = await runToEnd(config, 'search');
    const second = await runToEnd(`${config}# again\n`, 'search');

    expect(first.run.status).toBe('complete');
    expect(second.run.status).toBe('complete');
    const values = (children: ExecutionRecord[]) =>
      children.map((child) => child.parameters);
    expect(values(first.children)).toHaveLength(4);
    expect(values(second.children)).toEqual(values(first.children));
    for (const child of first.children) {
      expect(child.parameters.lr).toBeGreaterThanOrEqual(0.0001);
      expect(child.parameters.lr).toBeLessThanOrEqual(0.1);
      expect([2, 4, 8]).toContain(child.parameters.depth);
    }
  }, 300_000);

  it('runs exactly the parameter sets of a manual search', async () => {
    const config = [
      step('echo {parameters}', [
        '{name: lr, type: float, default: 0.5}',
        '{name: depth, type: integer, default: 9}',
      ]),
      '- task:',
      '    name: manual',
      '    step: train',
      '    type: manual_search',
      '    parameter-sets:',
      '      - {lr: 0.3, depth: 1}',
      '      - {lr: 0.2}',
      '      - {depth: 7}',
      '',
    ].join('\n');

    const { run, children } = await runToEnd(config, 'manual');

    expect(run.status).toBe('complete');
    expect(children.map((child) => child.parameters)).toEqual([
      { lr: 0.3, depth: 1 },
      { lr: 0.2, depth: 9 },
      { lr: 0.5, depth: 7 },
    ]);
  }, 300_000);

  it.each([
    [
      'stop-all-and-error',
      'error',
      ['complete', 'error', 'skipped', 'skipped'],
    ],
    [
      'continue-and-error',
      'error',
      ['complete', 'error', 'complete', 'complete'],
    ],
    [
      'continue-and-complete',
      'complete',
      ['complete', 'error', 'complete', 'complete'],
    ],
  ])(
    'on-child-error: %s',
    async (policy, status, statuses) => {
      // One child at a time, so "the rest" is known: child 2 fails.
      const config = [
        step('test {parameter-value:seed} -ne 2', [
          '{name: seed, type: integer, default: 0}',
        ]),
        '- task:',
        `    name: errors`,
        '    step: train',
        '    maximum-queued-executions: 1',
        `    on-child-error: ${policy}`,
        '    parameters:',
        '      - {name: seed, style: linear, rules: {start: 1, end: 4, step: 1}}',
        '',
      ].join('\n');

      const { run } = await runToEnd(config, 'errors');

      expect(run.status, await fixture.describe(run.id)).toBe(status);
      expect(
        [1, 2, 3, 4].map(
          (k) => run.nodes.find((node) => node.name === `errors#${k}`)?.status,
        ),
      ).toEqual(statuses);
      expect(run.nodes.find((node) => node.name === 'errors')?.status).toBe(
        status,
      );
    },
    300_000,
  );

  it('stops the other children once one meets the stop-condition', async () => {
    const config = [
      step(`printf '{"score": %s}\\n' {parameter-value:seed}`, [
        '{name: seed, type: integer, default: 0}',
      ]),
      '- task:',
      '    name: early',
      '    step: train',
      '    maximum-queued-executions: 1',
      '    stop-condition: score >= 3',
      '    parameters:',
      '      - {name: seed, style: linear, rules: {start: 1, end: 5, step: 1}}',
      '',
    ].join('\n');

    const { run, children } = await runToEnd(config, 'early');

    expect(run.status, await fixture.describe(run.id)).toBe('complete');
    expect(children.map((child) => child.metrics.score)).toEqual([1, 2, 3]);
    expect(
      [4, 5].map(
        (k) => run.nodes.find((node) => node.name === `early#${k}`)?.status,
      ),
    ).toEqual(['skipped', 'skipped']);
    expect(run.nodes.find((node) => node.name === 'early')?.message).toMatch(
      /"early#3" met the stop-condition/,
    );
  }, 300_000);

  it('reuses every child of an identical sweep with reuse-children', async () => {
    const config = [
      step('echo {parameters}', ['{name: seed, type: integer, default: 0}']),
      '- task:',
      '    name: again',
      '    step: train',
      '    reuse-children: true',
      '    parameters:',
      '      - {name: seed, style: multiple, rules: {items: [1, 2, 3]}}',
      '',
    ].join('\n');
    const first = await runToEnd(config, 'again');
    expect(first.run.status).toBe('complete');

    // The same commit again: the children's executions are found and reused.
    const created = await createRun(fixture.deps, {
      repository: first.run.repository,
      source: first.run.source!,
      commit: first.run.commit,
      ref: 'refs/heads/main',
      name: 'again',
      configText: config,
      configFile: 'kiln.yaml',
    });
    const second = await waitForRun(
      fixture,
      created.id,
      (state) => !['created', 'queued', 'running'].includes(state.status),
      240_000,
    );

    expect(second.status).toBe('complete');
    const children = second.nodes.filter((node) =>
      node.name.startsWith('again#'),
    );
    expect(children.map((node) => node.status)).toEqual([
      'reused',
      'reused',
      'reused',
    ]);
    expect(children.map((node) => node.executionId).sort()).toEqual(
      first.children.map((child) => child.id).sort(),
    );
  }, 300_000);

  it("gives a distributed task's members each other in distributed.json", async () => {
    const config = [
      step('cat /valohai/config/distributed.json', [
        '{name: unused, type: integer, default: 0}',
      ]),
      '- task:',
      '    name: group',
      '    step: train',
      '    type: distributed',
      '    execution-count: 3',
      '    parameters: []',
      '',
    ].join('\n');

    const { run, children } = await runToEnd(config, 'group');

    expect(run.status, await fixture.describe(run.id)).toBe('complete');
    expect(children).toHaveLength(3);
    const ids = children.map((child) => child.id);
    for (const [index, child] of children.entries()) {
      const document = JSON.parse(await fixture.logText(child.id)) as {
        config: {
          member_id: string;
          required_count: number;
          group_name: string;
        };
        members: Array<{ member_id: string; job_id: string; identity: string }>;
        self: { member_id: string; job_id: string };
      };
      expect(document.config).toMatchObject({
        member_id: String(index),
        required_count: 3,
        group_name: `task-${run.id}-group`,
      });
      expect(document.members.map((member) => member.member_id)).toEqual([
        '0',
        '1',
        '2',
      ]);
      expect(document.members.map((member) => member.job_id)).toEqual(ids);
      expect(document.self).toMatchObject({
        member_id: String(index),
        job_id: child.id,
      });
    }
  }, 300_000);
});

function childNumber(execution: ExecutionRecord): number {
  return Number(/#(\d+)$/.exec(execution.node ?? '')?.[1] ?? 0);
}

/**
 * The most children of a task queued or started at one time, replayed
 * from the run's event stream (every change is in it, in order).
 */
async function maxActiveChildren(
  fixture: ServiceFixture,
  runId: string,
  task: string,
): Promise<number> {
  const events = await fixture.deps.runs.readRunEvents(runId, {
    count: 10_000,
  });
  const active = new Set<string>();
  let max = 0;
  const isChild = (name: string) => name.startsWith(`${task}#`);
  for (const { event } of events) {
    const names =
      event.kind === 'node'
        ? [event.node]
        : event.kind === 'nodes'
          ? event.nodes
          : [];
    for (const name of names.filter(isChild)) {
      if (event.status === 'queued' || event.status === 'started')
        active.add(name);
      else active.delete(name);
    }
    max = Math.max(max, active.size);
  }
  return max;
}
