/**
 * Carries out one node event: the node machine decides the new state, the
 * run store applies it as a compare-and-set together with what follows in
 * the graph (successors released or blocked, execution record created or
 * closed, stop requests), then the ready successors are queued and the run
 * settles when nothing is left.
 *
 * Who calls: the worker (claim, phases, end of an attempt, infrastructure
 * failures), the queue's give-up handler (`lost`). Concurrency: any number
 * of processes at once, on any nodes; two changes of one node are ordered
 * by the store's compare-and-set — the loser re-decides from the stored
 * state (usually: ignored, the node moved on). Idempotent in effect: a
 * repeated event finds the node moved on and changes nothing.
 */
import type { ExecutionRecord } from '../model/execution.js';
import type { RunNodeState, RunRecord, RunStatus } from '../model/run.js';
import { blockedBy, releasesOf } from '../orchestrator/graph-progress.js';
import {
  nodeTransition,
  type NodeEffect,
  type NodeEvent,
} from '../orchestrator/node-machine.js';
import type { RunGraph } from '../orchestrator/run-graph.js';
import { RUN_START } from '../orchestrator/run-machine.js';
import type { DatumRecord, NodeChange, StopRequest } from '../store/index.js';
import { nowIso, type ControlDeps } from './control-deps.js';
import { enqueueNodes } from './enqueue-nodes.js';
import { applyRunEvent, settleRun } from './apply-run-event.js';
import { childReleases } from '../orchestrator/task/plan-task-batch.js';
import {
  taskNodeNameOf,
  type TaskChildSpec,
} from '../orchestrator/task/task-children.js';
import { decideChildEnd } from '../orchestrator/task/task-policy.js';
import { stopTaskChildren } from './stop-task-children.js';

export interface ApplyNodeEventOptions {
  run: Pick<RunRecord, 'id' | 'queue'>;
  graph: RunGraph;
  /** The state the caller believes current; re-read when it moved. */
  from: RunNodeState;
  event: NodeEvent;
  /** Refuse unless the run's status is one of these (a claim). */
  runIn?: readonly RunStatus[];
  /** The attempt's execution record, made when it starts running. */
  execution?: (
    executionId: string,
    attempt: number,
  ) => Omit<ExecutionRecord, 'counter'>;
  /** Fields set on this attempt's execution when it closes. */
  close?: Partial<ExecutionRecord>;
  output?: NodeChange['output'];
  reuse?: { key: string };
  datums?: readonly DatumRecord[];
  /**
   * The node is a task's child (what it was created with): its end
   * releases the next child and counts down its batch's join instead of
   * touching the graph, and the task's policy decides on it.
   */
  child?: TaskChildSpec;
}

export type ApplyNodeEventResult =
  | {
      applied: true;
      /** The stored state the change was applied to. */
      from: RunNodeState;
      node: RunNodeState;
      runStatus: RunStatus;
      /** Counter of the execution this change created. */
      counter?: number;
    }
  | {
      applied: false;
      /** The stored state (null: no such run or node). */
      node: RunNodeState | null;
      runStatus?: RunStatus;
      why: string;
    };

const ROUNDS = 10;

export async function applyNodeEvent(
  deps: ControlDeps,
  options: ApplyNodeEventOptions,
): Promise<ApplyNodeEventResult> {
  const { run, graph, event } = options;
  const graphNode = graph.byName.get(options.from.name);
  if (!options.child && !graphNode) {
    // A task's child reported without its spec (a lost job): read it.
    const parsed = taskNodeNameOf(graph, options.from.name);
    if (parsed?.kind === 'child') {
      const [spec] = await deps.runs.getChildSpecs(run.id, [options.from.name]);
      if (spec) return applyNodeEvent(deps, { ...options, child: spec });
    }
  }
  // A child's error is the task's to judge (on-child-error).
  const onError = options.child
    ? 'continue'
    : (graphNode?.onError ?? 'stop-all');
  let from = options.from;
  for (let round = 0; round < ROUNDS; round += 1) {
    const now = nowIso(deps);
    const context = { runId: run.id, now, onError };
    const decided = nodeTransition(from, event, context);
    if (!decided.applied) {
      return { applied: false, node: from, why: decided.why };
    }
    const to = decided.node;
    const change: NodeChange = { runId: run.id, at: now, from, to };
    if (options.runIn) change.runIn = options.runIn;
    const others: Array<{ id: string; patch: Partial<ExecutionRecord> }> = [];
    const stop: StopRequest[] = [];
    let failRun = false;
    let enqueueSelf = false;
    let stopTask: string | undefined;
    for (const effect of decided.effects) {
      switch (effect.type) {
        case 'run-started':
          change.start = RUN_START;
          break;
        case 'record-execution':
          if (options.execution) {
            change.createExecution = options.execution(
              effect.executionId,
              to.attempt,
            );
          }
          break;
        case 'close-execution':
          if (
            effect.executionId === to.executionId &&
            !change.createExecution
          ) {
            change.updateExecution = {
              id: effect.executionId,
              patch: closePatch(effect, now, options.close),
              // The attempt's record exists when it ran (phase ≥ running).
              guard: from.phase !== 'running' && from.phase !== 'uploading',
            };
          } else {
            others.push({
              id: effect.executionId,
              patch: closePatch(effect, now),
            });
          }
          break;
        case 'stop-execution':
          stop.push({
            runId: run.id,
            node: to.name,
            executionId: effect.executionId,
            ...(effect.worker ? { worker: effect.worker } : {}),
            reason: to.message ?? 'stopped',
          });
          break;
        case 'enqueue':
          enqueueSelf = true;
          break;
        case 'settled':
          if (options.child) {
            stopTask = childDecision(deps, {
              run,
              graph,
              child: options.child,
              node: to,
              metadata: options.close?.metrics ?? {},
            }).stop;
            // A stopping child releases its join only (plan-task-batch.ts).
            change.release = childReleases(
              graph,
              to.step,
              options.child,
              context,
              stopTask !== undefined,
            );
            break;
          }
          if (effect.as === 'satisfied') {
            change.release = releasesOf(graph, to.name, context);
          } else {
            change.block = blockedBy(
              graph,
              to.name,
              to.status === 'stopped'
                ? 'stopped'
                : to.status === 'error'
                  ? 'failed'
                  : 'skipped',
              context,
            );
            if (effect.as === 'fail-run') failRun = true;
          }
          if (to.status === 'error' && onError !== 'continue') {
            change.tally = 'failed';
          } else if (to.status === 'stopped') {
            change.tally = 'stopped';
          }
          break;
      }
    }
    if (others.length > 0) change.closeOthers = others;
    if (stop.length > 0) change.stop = stop;
    if (options.output) change.output = options.output;
    if (options.reuse && to.status === 'complete' && to.executionId) {
      change.reuse = { key: options.reuse.key, executionId: to.executionId };
    }
    if (options.datums?.length) change.datums = options.datums;

    const result = await deps.runs.applyNode(change);
    if (result.code !== 'ok') {
      if (result.code === 'missing') {
        return { applied: false, node: null, why: 'no such run or node' };
      }
      if (result.code === 'moved') {
        from = result.node;
        continue;
      }
      return {
        applied: false,
        node: result.node,
        runStatus: result.status,
        why: `run is ${result.status}`,
      };
    }

    // What follows: successors and retries on the queue, the run settled.
    const released = new Map(
      (change.release ?? []).map((item) => [item.name, item.queued]),
    );
    const queued = result.queued.flatMap((name) => {
      const state = released.get(name);
      return state ? [state] : [];
    });
    if (queued.length > 0) {
      await enqueueNodes(
        deps,
        run,
        queued,
        to.executionId ? { [to.name]: to.executionId } : undefined,
      );
    }
    if (enqueueSelf) await enqueueNodes(deps, run, [to]);
    if (options.child && stopTask) {
      await stopTaskChildren(deps, {
        runId: run.id,
        task: options.child.task,
        reason: stopTask,
      });
    }
    if (failRun) {
      await applyRunEvent(deps, {
        runId: run.id,
        event: { type: 'fail', reason: `node "${to.name}" failed` },
      });
    } else if (result.left <= 0) {
      await settleRun(deps, { runId: run.id, graph });
    }
    return {
      applied: true,
      from,
      node: to,
      runStatus: result.status,
      ...(result.counter !== undefined ? { counter: result.counter } : {}),
    };
  }
  throw new Error(
    `node "${options.from.name}" of run ${run.id} kept changing; try again`,
  );
}

function closePatch(
  effect: Extract<NodeEffect, { type: 'close-execution' }>,
  now: string,
  own?: Partial<ExecutionRecord>,
): Partial<ExecutionRecord> {
  return {
    status: effect.status,
    endedAt: now,
    ...(effect.endReason ? { endReason: effect.endReason } : {}),
    ...own,
  };
}

/**
 * A child ended: does its task's policy stop the task's other children (a
 * failure under `stop-all-and-error`, the stop-condition met)? Decided
 * before the child's change, so a stopping child starts no one.
 */
function childDecision(
  deps: ControlDeps,
  options: {
    run: Pick<RunRecord, 'id'>;
    graph: RunGraph;
    child: TaskChildSpec;
    node: RunNodeState;
    metadata: Readonly<Record<string, unknown>>;
  },
): { stop?: string } {
  const task = options.graph.byName.get(options.child.task)?.task;
  if (!task) return {};
  const decision = decideChildEnd(task, options.node.name, {
    outcome:
      options.node.status === 'complete' ||
      options.node.status === 'error' ||
      options.node.status === 'stopped' ||
      options.node.status === 'reused'
        ? options.node.status
        : 'skipped',
    metadata: options.metadata,
    parameters: options.child.parameters,
  });
  if (decision.note) {
    deps.logger.warn(
      { runId: options.run.id, node: options.node.name, note: decision.note },
      'task stop-condition',
    );
  }
  return decision.stop ? { stop: decision.stop } : {};
}
