/**
 * A task's children on a real redis-server: a batch created in one
 * compare-and-set with its task node, never twice; their specs and counts
 * kept out of the run's header; and a child's end costing the same number
 * of Redis commands in a task of 10 children or 1,000 (no write grows with
 * the number of children).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyNodeEvent } from '../../../src/control/apply-node-event.js';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import { createRun } from '../../../src/control/create-run.js';
import { expandTask } from '../../../src/control/expand-task.js';
import { loadRunPlan } from '../../../src/control/load-run-plan.js';
import type { RunNodeState, RunRecord } from '../../../src/model/run.js';
import { CLAIMABLE_RUN_STATUSES } from '../../../src/orchestrator/run-machine.js';
import type { StepJob } from '../../../src/queue/step-jobs.js';
import { createStores } from '../../../src/store/index.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

function sweepConfig(children: number): string {
  return `
- step:
    name: train
    image: busybox
    command: "echo {parameters}"
    parameters: [{name: seed, type: integer, default: 0}]
- task:
    name: sweep
    step: train
    maximum-queued-executions: 4
    parameters:
      - {name: seed, style: linear, rules: {start: 1, end: ${children}, step: 1}}
`;
}

describe.skipIf(!haveRedis())('redis task store', () => {
  let server: TestRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });

  afterAll(async () => {
    redis?.disconnect();
    await server?.close();
  });

  function setup() {
    const stores = createStores(redis, { prefix: `t-${randomUUID()}` });
    const jobs: StepJob[] = [];
    const deps: ControlDeps = {
      runs: stores.runs,
      executions: stores.executions,
      configs: stores.configs,
      steps: {
        async enqueue(_queue, list) {
          jobs.push(...list);
        },
        async close() {},
      },
      logger: pino({ level: 'silent' }),
    };
    return { stores, deps, jobs };
  }

  async function startSweep(
    deps: ControlDeps,
    jobs: StepJob[],
    children: number,
  ) {
    const run = await createRun(deps, {
      repository: 'acme/models',
      source: { id: 'acme/models', url: '/nowhere' },
      commit: 'a'.repeat(40),
      name: 'sweep',
      configText: sweepConfig(children),
      configFile: 'kiln.yaml',
    });
    const plan = await loadRunPlan(deps.configs, run);
    const job = jobs.find((item) => item.node === 'sweep') as StepJob;
    const queued: RunNodeState = {
      name: 'sweep',
      step: 'train',
      index: job.nodeIndex,
      status: 'queued',
      attempt: job.attempt,
      generation: job.generation,
    };
    const taskJob = {
      run,
      plan,
      node: plan.graph.byName.get('sweep')!,
      queued,
      worker: 'w1',
      upstream: new Map(),
    };
    return { run, plan, taskJob };
  }

  it('creates a batch once, with its specs and count kept out of the header', async () => {
    const { stores, deps, jobs } = setup();
    const { run, taskJob } = await startSweep(deps, jobs, 6);

    const first = await expandTask(deps, taskJob);
    const again = await expandTask(deps, taskJob);

    expect(first).toBe('complete');
    expect(again).toBe('stale');
    const stored = (await stores.runs.getRun(run.id)) as RunRecord;
    expect(stored.nodes.map((node) => [node.name, node.status])).toEqual([
      ['sweep', 'started'],
      ['sweep#1', 'queued'],
      ['sweep@1', 'pending'],
      ['sweep#2', 'queued'],
      ['sweep#3', 'queued'],
      ['sweep#4', 'queued'],
      ['sweep#5', 'pending'],
      ['sweep#6', 'pending'],
    ]);
    expect(Object.keys(stored).some((key) => /^(c|tn|m):/.test(key))).toBe(
      false,
    );
    expect(await stores.runs.countTaskChildren(run.id, 'sweep')).toBe(6);
    expect(
      await stores.runs.getChildSpecs(run.id, ['sweep#5', 'sweep#9']),
    ).toEqual([
      {
        task: 'sweep',
        number: 5,
        batch: 1,
        batchSize: 6,
        parameters: { seed: 5 },
      },
      null,
    ]);
    // Jobs of the retried expansion dedupe by id (same node and generation).
    expect(
      jobs
        .filter((job) => job.node.startsWith('sweep#'))
        .map((job) => job.node),
    ).toEqual([
      'sweep#1',
      'sweep#2',
      'sweep#3',
      'sweep#4',
      'sweep#1',
      'sweep#2',
      'sweep#3',
      'sweep#4',
    ]);
  });

  it("keeps a child's end O(1): its commands do not grow with the task", async () => {
    const costOf = async (children: number) => {
      const { deps, jobs } = setup();
      const { run, plan, taskJob } = await startSweep(deps, jobs, children);
      await expandTask(deps, taskJob);
      const [queued] = await deps.runs.getNodes(run.id, ['sweep#1']);
      const claim = await applyNodeEvent(deps, {
        run,
        graph: plan.graph,
        from: queued as RunNodeState,
        event: { type: 'claim', worker: 'w1', generation: 1, phase: 'running' },
        runIn: CLAIMABLE_RUN_STATUSES,
      });
      if (!claim.applied) throw new Error(claim.why);
      const [spec] = await deps.runs.getChildSpecs(run.id, ['sweep#1']);

      const before = await commandCount(redis);
      const end = await applyNodeEvent(deps, {
        run,
        graph: plan.graph,
        from: claim.node,
        event: {
          type: 'finished',
          attempt: 1,
          outcome: 'complete',
          message: 'exited 0',
        },
        child: spec!,
        close: { metrics: { loss: 0.5 } },
      });
      const cost = (await commandCount(redis)) - before;

      expect(end.applied).toBe(true);
      const [next] = await deps.runs.getNodes(run.id, ['sweep#5']);
      expect(next?.status).toBe('queued');
      return cost;
    };

    const small = await costOf(10);
    const large = await costOf(1000);

    expect(large).toBe(small);
  });
});

async function commandCount(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/calls=(\d+)/g)) total += Number(match[1]);
  return total;
}
