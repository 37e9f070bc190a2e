/**
 * A run's tasks over the API: each task node with its sweep settings, its
 * children (parameters, metrics, state, execution) and the best child by
 * the task's goal (`control/summarize-task.ts`).
 */
import { Router } from 'express';
import {
  summarizeTask,
  taskNodesOf,
  type TaskSummary,
} from '../../control/summarize-task.js';
import type { RunRecord } from '../../model/run.js';
import { ApiError, checkId, type ApiContext } from '../../http/api-context.js';

export function createApiTasksRouter(context: ApiContext): Router {
  const { deps, auth } = context;
  const control = deps.control;
  const router = Router();
  const read = auth.requireRole('read');

  router.get('/api/runs/:id/tasks', read, async (req, res) => {
    const run = await getRun(req.params.id);
    const tasks: Array<Omit<TaskSummary, 'children'>> = [];
    for (const name of await taskNodesOf(control, run)) {
      const summary = await summarizeTask(control, run, name);
      if (!summary) continue;
      const { children: _children, ...rest } = summary;
      tasks.push(rest);
    }
    res.json({ tasks });
  });

  router.get('/api/runs/:id/tasks/:node', read, async (req, res) => {
    const run = await getRun(req.params.id);
    const node = String(req.params.node);
    const summary = await summarizeTask(control, run, node);
    if (!summary) {
      throw new ApiError(404, `run ${run.id} has no task node "${node}"`);
    }
    res.json(summary);
  });

  async function getRun(id: unknown): Promise<RunRecord> {
    const run = await control.runs.getRun(checkId(id, 'run'));
    if (!run) throw new ApiError(404, `no run ${String(id)}`);
    return run;
  }

  return router;
}
