/**
 * A child meets its task's stop-condition and the process deciding the
 * stop dies before stopping the others: the child's own end already
 * released the batch's join, whose job stops what is left and ends the
 * task — the task never waits for children that will not come.
 */
import { describe, expect, it } from 'vitest';
import { advanceTask } from '../../../src/control/advance-task.js';
import { applyNodeEvent } from '../../../src/control/apply-node-event.js';
import { createRun } from '../../../src/control/create-run.js';
import { expandTask } from '../../../src/control/expand-task.js';
import { loadRunPlan } from '../../../src/control/load-run-plan.js';
import type { RunNodeState } from '../../../src/model/run.js';
import { CLAIMABLE_RUN_STATUSES } from '../../../src/orchestrator/run-machine.js';
import { createMemoryStores, statusesOf } from '../../helpers/memory-stores.js';

const CONFIG = `
- step:
    name: train
    image: busybox
    command: "train {parameters}"
    parameters: [{name: seed, type: integer, default: 0}]
- task:
    name: early
    step: train
    maximum-queued-executions: 2
    stop-condition: score >= 1
    parameters:
      - {name: seed, style: linear, rules: {start: 1, end: 5, step: 1}}
`;

describe('a task stopped by a child whose worker dies at once', () => {
  it("stops the rest and ends the task from the join's job", async () => {
    const stores = createMemoryStores();
    const deps = stores.deps();
    const run = await createRun(deps, {
      repository: 'acme/models',
      source: { id: 'acme/models', url: '/nowhere' },
      commit: 'a'.repeat(40),
      name: 'early',
      configText: CONFIG,
      configFile: 'kiln.yaml',
    });
    const plan = await loadRunPlan(deps.configs, run);
    const node = plan.graph.byName.get('early')!;
    const state = async (name: string) =>
      (await stores.runs.getNodes(run.id, [name]))[0] as RunNodeState;
    await expandTask(deps, {
      run,
      plan,
      node,
      queued: await state('early'),
      worker: 'w1',
      upstream: new Map(),
    });
    const claims: RunNodeState[] = [];
    for (const name of ['early#1', 'early#2']) {
      const claim = await applyNodeEvent(deps, {
        run,
        graph: plan.graph,
        from: await state(name),
        event: {
          type: 'claim',
          worker: 'w1',
          generation: 1,
          phase: 'running',
        },
        runIn: CLAIMABLE_RUN_STATUSES,
      });
      if (!claim.applied) throw new Error(claim.why);
      claims.push(claim.node);
    }
    // The process dies where it would stop the other children.
    const applyRun = stores.runs.applyRun;
    stores.runs.applyRun = () => Promise.reject(new Error('process died'));

    await expect(
      applyNodeEvent(deps, {
        run,
        graph: plan.graph,
        from: claims[0]!,
        event: {
          type: 'finished',
          attempt: 1,
          outcome: 'complete',
          message: 'exited 0',
        },
        close: { metrics: { score: 1 } },
      }),
    ).rejects.toThrow('process died');
    stores.runs.applyRun = applyRun;
    expect(statusesOf((await stores.runs.getRun(run.id))!)).toMatchObject({
      'early#1': 'complete',
      'early#2': 'started',
      'early#3': 'pending',
      'early@1': 'queued',
    });

    const outcome = await advanceTask(deps, {
      run,
      plan,
      node,
      queued: await state('early@1'),
      worker: 'w2',
      upstream: new Map(),
      batch: 1,
    });

    expect(outcome).toBe('complete');
    const after = (await stores.runs.getRun(run.id))!;
    expect(statusesOf(after)).toMatchObject({
      early: 'complete',
      'early#1': 'complete',
      'early#2': 'stopped',
      'early#3': 'skipped',
      'early#5': 'skipped',
      'early@1': 'complete',
    });
    expect(after.status).toBe('complete');
    expect(stores.stops.requests.map((request) => request.node)).toEqual([
      'early#2',
    ]);
  });
});
