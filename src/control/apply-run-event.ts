/**
 * Carries out one run event (cancel, supersede, fail, an action, approve,
 * the end): the run machine decides the run's new status, the node machine
 * what becomes of each node (wound down, released), and the run store
 * applies all of it as one compare-and-set. If anything moved in between
 * (a worker's change landed first), the run is read again and decided
 * again, so a cancel can't be undone by a late worker nor lose a node.
 *
 * Who calls: the API and intake (cancel, supersede, approve), node events
 * (fail, settle), the worker (actions). Any process, any time; idempotent
 * in effect (a repeated cancel finds the run terminal and changes nothing).
 */
import type { RunNodeState, RunRecord } from '../model/run.js';
import {
  allSettled,
  failingNodes,
  readyNodes,
} from '../orchestrator/graph-progress.js';
import {
  isTerminalNode,
  nodeTransition,
} from '../orchestrator/node-machine.js';
import type { RunGraph } from '../orchestrator/run-graph.js';
import {
  isFinalRunStatus,
  runTransition,
  type RunControl,
  type RunMachineEvent,
} from '../orchestrator/run-machine.js';
import type { RunChange, StopRequest } from '../store/index.js';
import { nowIso, type ControlDeps } from './control-deps.js';
import { enqueueNodes } from './enqueue-nodes.js';
import { loadRunPlan } from './load-run-plan.js';

export type ApplyRunEventResult =
  | { applied: true; run: RunRecord }
  | { applied: false; run: RunRecord | null; why: string };

const ROUNDS = 20;

export async function applyRunEvent(
  deps: ControlDeps,
  options: { runId: string; event: RunMachineEvent },
): Promise<ApplyRunEventResult> {
  for (let round = 0; round < ROUNDS; round += 1) {
    const run = await deps.runs.getRun(options.runId);
    if (!run) return { applied: false, run: null, why: 'no such run' };
    const outcome = await decide(deps, run, options.event);
    if ('why' in outcome) return { applied: false, run, why: outcome.why };
    const result = await deps.runs.applyRun(outcome.change);
    if (result.code === 'moved') continue;
    if (result.code === 'missing') {
      return { applied: false, run: null, why: 'no such run' };
    }
    if (outcome.enqueue.length > 0) {
      await enqueueNodes(deps, run, outcome.enqueue);
    }
    const updated = (await deps.runs.getRun(run.id)) ?? run;
    if (result.left <= 0 && outcome.change.nodes.length > 0) {
      await settleRun(deps, { runId: run.id });
    }
    return { applied: true, run: updated };
  }
  throw new Error(`run ${options.runId} kept changing; try again`);
}

/**
 * Ends a run whose nodes are all terminal (complete, error or stopped from
 * its nodes). Safe to call any time: a run with a node left, or already
 * ended, is unchanged.
 */
export async function settleRun(
  deps: ControlDeps,
  options: { runId: string; graph?: RunGraph },
): Promise<void> {
  for (let round = 0; round < ROUNDS; round += 1) {
    const run = await deps.runs.getRun(options.runId);
    if (!run || isFinalRunStatus(run.status) || !allSettled(run.nodes)) {
      return;
    }
    const graph = options.graph ?? (await loadRunPlan(deps.configs, run)).graph;
    const event: RunMachineEvent = {
      type: 'drained',
      failed: failingNodes(graph, run.nodes),
      // Children a task stopped (its stop-condition) don't stop the run.
      stopped: run.nodes.filter(
        (node) => node.status === 'stopped' && graph.byName.has(node.name),
      ).length,
    };
    const decided = runTransition(controlOf(run), event, nowIso(deps));
    if (!decided.applied) return;
    const result = await deps.runs.applyRun({
      runId: run.id,
      at: nowIso(deps),
      from: run.status,
      run: decided.run,
      nodes: [],
    });
    if (result.code !== 'moved') return;
  }
}

interface Decision {
  change: RunChange;
  enqueue: RunNodeState[];
}

async function decide(
  deps: ControlDeps,
  run: RunRecord,
  event: RunMachineEvent,
): Promise<Decision | { why: string }> {
  const now = nowIso(deps);
  const decided = runTransition(controlOf(run), event, now);
  if (!decided.applied) return { why: decided.why };
  const change: RunChange & { nodes: NonNullable<RunChange['nodes']> } = {
    runId: run.id,
    at: now,
    from: run.status,
    run: decided.run,
    nodes: [],
  };
  const nodes: Array<RunChange['nodes'][number]> = [];
  const executions: NonNullable<RunChange['executions']>[number][] = [];
  const stop: StopRequest[] = [];
  const enqueue: RunNodeState[] = [];
  const context = { runId: run.id, now };
  for (const effect of decided.effects) {
    if (effect.type === 'wind-down') {
      for (const node of run.nodes) {
        if (isTerminalNode(node.status)) continue;
        const stopped = nodeTransition(
          node,
          { type: 'stop', reason: effect.reason },
          context,
        );
        if (!stopped.applied) continue;
        nodes.push({
          from: node,
          to: stopped.node,
          terminal: true,
          ...(stopped.node.status === 'stopped'
            ? { tally: 'stopped' as const }
            : {}),
        });
        for (const nodeEffect of stopped.effects) {
          if (nodeEffect.type === 'close-execution') {
            executions.push({
              id: nodeEffect.executionId,
              patch: {
                status: nodeEffect.status,
                endedAt: now,
                ...(nodeEffect.endReason
                  ? { endReason: nodeEffect.endReason }
                  : {}),
              },
            });
          } else if (nodeEffect.type === 'stop-execution') {
            stop.push({
              runId: run.id,
              node: node.name,
              executionId: nodeEffect.executionId,
              ...(nodeEffect.worker ? { worker: nodeEffect.worker } : {}),
              reason: effect.reason,
            });
          }
        }
      }
    } else if (effect.type === 'release-ready') {
      const { graph } = await loadRunPlan(deps.configs, run);
      for (const name of readyNodes(graph, run.nodes)) {
        const node = run.nodes.find((item) => item.name === name);
        if (!node) continue;
        const ready = nodeTransition(node, { type: 'ready' }, context);
        if (!ready.applied) continue;
        nodes.push({ from: node, to: ready.node, terminal: false });
        enqueue.push(ready.node);
      }
      // Jobs of nodes queued while the run was held were dropped: again.
      enqueue.push(...run.nodes.filter((node) => node.status === 'queued'));
    }
  }
  change.nodes = nodes;
  if (executions.length > 0) change.executions = executions;
  if (stop.length > 0) change.stop = stop;
  return { change, enqueue };
}

export function controlOf(run: RunRecord): RunControl {
  return {
    status: run.status,
    reason: run.reason,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    supersededBy: run.supersededBy,
  };
}
