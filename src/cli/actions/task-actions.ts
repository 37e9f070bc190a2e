/**
 * `kiln show RUN` / `kiln show RUN/TASK`: the tasks of a run — each with
 * its children (parameters, metrics, state) and the best child by its
 * goal. A reference that names no run with tasks is left to the
 * execution lookup.
 */
import {
  summarizeTask,
  taskNodesOf,
  type TaskSummary,
} from '../../control/summarize-task.js';
import type { Engine } from '../../engine/create-engine.js';
import { formatTaskText } from '../format-task-text.js';

const runIdPattern = /^[A-Za-z0-9._-]{1,128}$/;

/** True when `reference` named a run's task(s) and they were printed. */
export async function showTasks(
  engine: Engine,
  reference: string,
  options: { json?: boolean },
): Promise<boolean> {
  const slash = reference.indexOf('/');
  const runId = slash < 0 ? reference : reference.slice(0, slash);
  const node = slash < 0 ? undefined : reference.slice(slash + 1);
  if (!runIdPattern.test(runId)) return false;
  const run = await engine.deps.runs.getRun(runId);
  if (!run) return false;
  const names = node ? [node] : await taskNodesOf(engine.deps, run);
  const tasks: TaskSummary[] = [];
  for (const name of names) {
    const summary = await summarizeTask(engine.deps, run, name);
    if (summary) tasks.push(summary);
  }
  if (tasks.length === 0) {
    if (node === undefined) return false;
    throw new Error(
      `run ${run.id} has no task node "${node}"; its nodes: ${run.nodes
        .filter((item) => !/[#@]\d+$/.test(item.name))
        .map((item) => item.name)
        .join(', ')}`,
    );
  }
  process.stdout.write(
    options.json
      ? `${JSON.stringify(node ? tasks[0] : { tasks }, null, 2)}\n`
      : `${tasks.map((task) => formatTaskText(task)).join('\n\n')}\n`,
  );
  return true;
}
