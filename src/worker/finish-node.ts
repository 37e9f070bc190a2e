/**
 * Records a node's end (fenced by its attempt), applies its `actions`, and
 * advances the run. The one place a node leaves the started state.
 */
import type { NodeStatus, RunRecord } from '../model/run.js';
import { advanceRun } from '../orchestrator/advance-run.js';
import { loadRunPlan } from '../orchestrator/load-run-plan.js';
import { evaluateNodeActions } from '../orchestrator/node-actions.js';
import { isFinalRunStatus } from '../orchestrator/next-run-actions.js';
import type { OrchestratorDeps } from '../orchestrator/orchestrator-deps.js';
import type { ExecutionStore } from '../store/index.js';
import type { StepJob } from '../queue/step-jobs.js';

export async function finishNode(
  deps: OrchestratorDeps,
  options: {
    run: RunRecord;
    job: StepJob;
    status: Extract<NodeStatus, 'complete' | 'error' | 'stopped' | 'reused'>;
    message?: string;
    executionId?: string;
    metrics?: Record<string, unknown>;
    parameters?: Record<string, unknown>;
  },
): Promise<void> {
  const { run, job } = options;
  await deps.runs.updateRunNode(
    run.id,
    job.node,
    {
      status: options.status,
      message: options.message,
      endedAt: new Date().toISOString(),
      ...(options.executionId ? { executionId: options.executionId } : {}),
    },
    { attempt: job.attempt },
  );
  if (options.status === 'complete' || options.status === 'error') {
    const plan = await loadRunPlan(deps, run).catch(() => undefined);
    const node = plan?.graph.nodes.find((item) => item.name === job.node);
    if (node && node.actions.length > 0) {
      const { outcome, notes } = evaluateNodeActions({
        node: job.node,
        actions: node.actions,
        when: options.status === 'complete' ? 'node-complete' : 'node-error',
        context: {
          metadata: options.metrics ?? {},
          parameters: options.parameters ?? {},
        },
      });
      for (const note of notes)
        deps.logger.warn(
          { runId: run.id, node: job.node, note },
          'node action',
        );
      const current = await deps.runs.getRun(run.id);
      if (outcome && current && !isFinalRunStatus(current.status)) {
        await deps.runs.updateRun(run.id, {
          status: outcome.status,
          reason: outcome.reason,
          ...(outcome.status === 'waiting-approval'
            ? {}
            : { endedAt: new Date().toISOString() }),
        });
      }
    }
  }
  await advanceRun(deps, run.id);
}

/**
 * Ends a node that could not run for an infrastructure reason (engine down,
 * fetch failed, retries used up): its execution, if any, and the node are
 * marked failed with the reason, then the run advances.
 */
export async function failNodeForInfrastructure(
  deps: OrchestratorDeps & { executions: ExecutionStore },
  options: {
    run: RunRecord;
    job: StepJob;
    executionId?: string;
    error: unknown;
  },
): Promise<void> {
  const { run, job } = options;
  const message =
    options.error instanceof Error
      ? options.error.message
      : String(options.error);
  if (options.executionId) {
    await deps.executions.updateExecution(
      options.executionId,
      {
        status: 'error',
        endReason: { kind: 'infra-error', message },
        endedAt: new Date().toISOString(),
      },
      { attempt: job.attempt },
    );
  }
  await finishNode(deps, {
    run,
    job,
    status: 'error',
    message: `infrastructure: ${message}`,
  });
}
