/**
 * Plays a created task run to its end through the control plane, as
 * workers would: the task node's job expands it, every child is claimed,
 * prints its metrics and completes, the batch's join settles the task.
 * For tests of what people see of a sweep (API, pages, reports).
 */
import { advanceTask } from '../../src/control/advance-task.js';
import { applyNodeEvent } from '../../src/control/apply-node-event.js';
import type { ControlDeps } from '../../src/control/control-deps.js';
import { expandTask } from '../../src/control/expand-task.js';
import { loadRunPlan } from '../../src/control/load-run-plan.js';
import type { RunNodeState, RunRecord } from '../../src/model/run.js';
import { CLAIMABLE_RUN_STATUSES } from '../../src/orchestrator/run-machine.js';

export async function driveSweep(
  control: ControlDeps,
  options: {
    run: RunRecord;
    task: string;
    /** A child's final metrics from its parameters. */
    metricsOf: (parameters: Record<string, unknown>) => Record<string, number>;
    /** Metric events per child (curves): step → values. */
    curve?: (
      final: Record<string, number>,
      step: number,
    ) => Record<string, number>;
  },
): Promise<RunRecord> {
  const { run, task } = options;
  const plan = await loadRunPlan(control.configs, run);
  const node = plan.graph.byName.get(task);
  if (!node) throw new Error(`no task node ${task}`);
  const [queued] = await control.runs.getNodes(run.id, [task]);
  await expandTask(control, {
    run,
    plan,
    node,
    queued: queued as RunNodeState,
    worker: 'w1',
    upstream: new Map(),
  });
  const count = await control.runs.countTaskChildren(run.id, task);
  const names = Array.from({ length: count }, (_, i) => `${task}#${i + 1}`);
  const specs = await control.runs.getChildSpecs(run.id, names);
  for (const spec of specs) {
    if (!spec) throw new Error('a child is missing');
    const name = `${task}#${spec.number}`;
    const [child] = await control.runs.getNodes(run.id, [name]);
    const claim = await applyNodeEvent(control, {
      run,
      graph: plan.graph,
      from: child as RunNodeState,
      event: { type: 'claim', worker: 'w1', generation: 1, phase: 'running' },
      runIn: CLAIMABLE_RUN_STATUSES,
      child: spec,
      execution: (id, attempt) => ({
        id,
        repository: run.repository,
        commit: run.commit,
        step: node.step ?? '',
        runId: run.id,
        node: name,
        image: 'busybox',
        imageDigest: null,
        command: [`train ${JSON.stringify(spec.parameters)}`],
        parameters: spec.parameters,
        inputs: [],
        outputs: [],
        metrics: {},
        status: 'started',
        runtime: 'local',
        host: 'test-host',
        attempt,
        createdAt: new Date().toISOString(),
        startedAt: new Date(Date.now() - 60_000).toISOString(),
      }),
    });
    if (!claim.applied) throw new Error(claim.why);
    const final = options.metricsOf(spec.parameters);
    if (options.curve) {
      const curve = options.curve;
      await control.executions.appendOutput(claim.node.executionId as string, {
        lines: [],
        metrics: [1, 2, 3, 4, 5].map((step) => ({
          time: new Date(Date.now() + step).toISOString(),
          values: curve(final, step),
        })),
      });
    }
    await applyNodeEvent(control, {
      run,
      graph: plan.graph,
      from: claim.node,
      event: {
        type: 'finished',
        attempt: 1,
        outcome: 'complete',
        message: 'exited with code 0',
      },
      child: spec,
      close: { metrics: final, endedAt: new Date().toISOString() },
    });
  }
  const [join] = await control.runs.getNodes(run.id, [`${task}@1`]);
  await advanceTask(control, {
    run,
    plan,
    node,
    queued: join as RunNodeState,
    worker: 'w1',
    upstream: new Map(),
    batch: 1,
  });
  const stored = await control.runs.getRun(run.id);
  if (!stored) throw new Error(`run ${run.id} is gone`);
  return stored;
}
