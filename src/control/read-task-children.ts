/**
 * A task node's children as they stand: each child's state, what it was
 * created with and (when asked) its execution record. Reads grow with the
 * number of children, so this is for the moments that need them all — a
 * batch's end, the task's end, a node fed by the task, the task's page —
 * never for a child's own change.
 */
import type { ExecutionRecord } from '../model/execution.js';
import type { RunNodeState } from '../model/run.js';
import {
  childName,
  type TaskChildSpec,
} from '../orchestrator/task/task-children.js';
import type { ControlDeps } from './control-deps.js';

export interface TaskChild {
  name: string;
  number: number;
  state: RunNodeState | null;
  spec: TaskChildSpec | null;
  /** The attempt's execution (or the reused one), when asked for. */
  execution?: ExecutionRecord | null;
}

export async function readTaskChildren(
  deps: Pick<ControlDeps, 'runs' | 'executions'>,
  options: { runId: string; task: string; executions?: boolean },
): Promise<TaskChild[]> {
  const count = await deps.runs.countTaskChildren(options.runId, options.task);
  const names = Array.from({ length: count }, (_, i) =>
    childName(options.task, i + 1),
  );
  const states: Array<RunNodeState | null> = [];
  for (let from = 0; from < names.length; from += 1000) {
    states.push(
      ...(await deps.runs.getNodes(
        options.runId,
        names.slice(from, from + 1000),
      )),
    );
  }
  const specs = await deps.runs.getChildSpecs(options.runId, names);
  const children: TaskChild[] = names.map((name, i) => ({
    name,
    number: i + 1,
    state: states[i] ?? null,
    spec: specs[i] ?? null,
  }));
  if (options.executions) {
    for (let from = 0; from < children.length; from += 100) {
      await Promise.all(
        children.slice(from, from + 100).map(async (child) => {
          const id = child.state?.executionId;
          child.execution = id ? await deps.executions.getExecution(id) : null;
        }),
      );
    }
  }
  return children;
}
