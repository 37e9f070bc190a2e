/**
 * Stops what is left of a task (its stop-condition held, or a child failed
 * under `on-child-error: stop-all-and-error`): every child not yet ended
 * is stopped (pending ones skipped, workers told to stop running ones) and
 * the batch's join is released, so a worker settles the task — one
 * compare-and-set of those nodes, decided again if any of them moved.
 * The run itself goes on (the task node decides what follows).
 */
import type { RunNodeState } from '../model/run.js';
import {
  isTerminalNode,
  nodeTransition,
} from '../orchestrator/node-machine.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';
import { parseTaskNodeName } from '../orchestrator/task/task-children.js';
import type { RunChange, StopRequest } from '../store/index.js';
import { nowIso, type ControlDeps } from './control-deps.js';
import { enqueueNodes } from './enqueue-nodes.js';

const ROUNDS = 20;

export async function stopTaskChildren(
  deps: ControlDeps,
  options: { runId: string; task: string; reason: string },
): Promise<boolean> {
  for (let round = 0; round < ROUNDS; round += 1) {
    const run = await deps.runs.getRun(options.runId);
    if (!run || isFinalRunStatus(run.status)) return false;
    const now = nowIso(deps);
    const context = { runId: run.id, now };
    const nodes: Array<RunChange['nodes'][number]> = [];
    const executions: NonNullable<RunChange['executions']>[number][] = [];
    const stop: StopRequest[] = [];
    const joins: RunNodeState[] = [];
    for (const node of run.nodes) {
      const parsed = parseTaskNodeName(node.name);
      if (parsed?.task !== options.task || isTerminalNode(node.status)) {
        continue;
      }
      if (parsed.kind === 'join') {
        if (node.status !== 'pending') continue;
        const ready = nodeTransition(node, { type: 'ready' }, context);
        if (!ready.applied) continue;
        nodes.push({ from: node, to: ready.node, terminal: false });
        joins.push(ready.node);
        continue;
      }
      const stopped = nodeTransition(
        node,
        { type: 'stop', reason: options.reason },
        context,
      );
      if (!stopped.applied) continue;
      nodes.push({ from: node, to: stopped.node, terminal: true });
      for (const effect of stopped.effects) {
        if (effect.type === 'close-execution') {
          executions.push({
            id: effect.executionId,
            patch: {
              status: effect.status,
              endedAt: now,
              ...(effect.endReason ? { endReason: effect.endReason } : {}),
            },
          });
        } else if (effect.type === 'stop-execution') {
          stop.push({
            runId: run.id,
            node: node.name,
            executionId: effect.executionId,
            ...(effect.worker ? { worker: effect.worker } : {}),
            reason: options.reason,
          });
        }
      }
    }
    if (nodes.length === 0) return false;
    const result = await deps.runs.applyRun({
      runId: run.id,
      at: now,
      from: run.status,
      nodes,
      ...(executions.length > 0 ? { executions } : {}),
      ...(stop.length > 0 ? { stop } : {}),
    });
    if (result.code === 'moved') continue;
    if (result.code === 'missing') return false;
    await enqueueNodes(deps, run, joins);
    return true;
  }
  throw new Error(
    `task "${options.task}" of run ${options.runId} kept changing; try again`,
  );
}
