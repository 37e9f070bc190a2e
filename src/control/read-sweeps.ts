/**
 * A run's tasks (sweeps) as its comparison with the base sees them: each
 * task node stands for its best child by the task's goal — its metrics are
 * the ones compared with the base branch, whose own task stands for its
 * best child the same way. Children and batch joins are left out (a sweep
 * may have thousands). Used by the pull-request report and the run page
 * (compare-with-base.ts).
 */
import type { RunRecord } from '../model/run.js';
import type { TaskGoal } from '../orchestrator/task/task-goal.js';
import type { ControlDeps } from './control-deps.js';
import { summarizeTask, taskNodesOf } from './summarize-task.js';

export interface SweepResult {
  node: string;
  status: string;
  children: number;
  goal?: TaskGoal;
  best?: { name: string; value: number; executionId?: string };
}

export async function readSweeps(
  deps: Pick<ControlDeps, 'runs' | 'executions' | 'configs'>,
  run: RunRecord,
): Promise<SweepResult[]> {
  const sweeps: SweepResult[] = [];
  for (const name of await taskNodesOf(deps, run)) {
    const task = await summarizeTask(deps, run, name);
    if (!task) continue;
    const sweep: SweepResult = {
      node: name,
      status: task.status,
      children: task.children.length,
    };
    if (task.goal) sweep.goal = task.goal;
    if (task.best) {
      const executionId = task.children.find(
        (child) => child.name === task.best?.name,
      )?.executionId;
      sweep.best = {
        ...task.best,
        ...(executionId ? { executionId } : {}),
      };
    }
    sweeps.push(sweep);
  }
  return sweeps;
}

/**
 * The run as the report shows it: its graph nodes only, each task node
 * carrying its best child's execution.
 */
export function viewByBestChild(
  run: RunRecord,
  sweeps: readonly SweepResult[],
): RunRecord {
  if (sweeps.length === 0) return run;
  const tasks = new Map(sweeps.map((sweep) => [sweep.node, sweep]));
  const nodes = run.nodes
    .filter((node) => {
      const match = /^(.+)[#@]\d+$/.exec(node.name);
      return !match || !tasks.has(match[1] as string);
    })
    .map((node) => {
      const best = tasks.get(node.name)?.best?.executionId;
      return best ? { ...node, executionId: best } : node;
    });
  return { ...run, nodes };
}
