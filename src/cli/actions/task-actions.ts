/**
 * `kiln show RUN` / `kiln show RUN/TASK`: the tasks of a run — each with
 * its children (parameters, metrics, state) and the best child by its
 * goal. A reference that names no run with tasks is left to the
 * execution lookup. The local store or KILN_URL's kiln: the same output.
 */
import { formatTaskText } from '../format-task-text.js';
import type { RecordsSource } from '../records-source.js';

const runIdPattern = /^[A-Za-z0-9._-]{1,128}$/;

/** True when `reference` named a run's task(s) and they were printed. */
export async function showTasks(
  source: RecordsSource,
  reference: string,
  options: { json?: boolean },
): Promise<boolean> {
  const slash = reference.indexOf('/');
  const runId = slash < 0 ? reference : reference.slice(0, slash);
  const node = slash < 0 ? undefined : reference.slice(slash + 1);
  if (!runIdPattern.test(runId)) return false;
  const found = await source.runTasks(runId, node);
  if (!found) return false;
  const { run, tasks } = found;
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
