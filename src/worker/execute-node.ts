/**
 * Runs one node of a run for one attempt (the body of a step job):
 * resolve values → inputs → reuse check → record → image → container →
 * outputs → final record → advance the run. Safe to run again for the same
 * job after a crash: the execution id, container name and every write are
 * keyed by (run, node, attempt), and writes are fenced by attempt.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildCommand,
  resolveParameterValues,
} from '../config/build-command.js';
import type { Step } from '../config/config-model.js';
import type { ExecutionRecord } from '../model/execution.js';
import type { RunRecord } from '../model/run.js';
import { loadRunPlan, stepForNode } from '../orchestrator/load-run-plan.js';
import { isFinalRunStatus } from '../orchestrator/next-run-actions.js';
import { resolveNodeValues } from '../orchestrator/resolve-node-values.js';
import type { StepJob } from '../queue/step-jobs.js';
import { buildConfigFiles, toJsonValue } from './container-contract.js';
import { finishNode } from './finish-node.js';
import type { NodeOutcome } from './node-outcome.js';
import { InputPreparationError, prepareInputs } from './prepare-inputs.js';
import { reuseKey } from './reuse-key.js';
import { runContainer } from './run-container.js';
import type { WorkerDeps } from './worker-deps.js';

export function executionIdFor(job: StepJob): string {
  return `${job.runId}-${job.nodeIndex}-${job.attempt}`;
}

export async function executeNode(
  deps: WorkerDeps,
  job: StepJob,
  context: { lastAttempt: boolean },
): Promise<NodeOutcome> {
  const run = await deps.runs.getRun(job.runId);
  const state = run?.nodes.find((node) => node.name === job.node);
  if (
    !run ||
    !state ||
    state.attempt !== job.attempt ||
    (state.status !== 'queued' && state.status !== 'started')
  ) {
    return 'stale';
  }
  if (isFinalRunStatus(run.status) || run.status === 'waiting-approval') {
    await finishNode(deps, {
      run,
      job,
      status: 'stopped',
      message: run.reason ?? `run ${run.status}`,
    });
    return 'stopped';
  }
  const plan = await loadRunPlan(deps, run);
  const graphNode = plan.graph.nodes.find((node) => node.name === job.node);
  const step = graphNode ? stepForNode(plan, graphNode) : undefined;
  if (!graphNode || !step) {
    await finishNode(deps, {
      run,
      job,
      status: 'error',
      message: `node "${job.node}" has no step to run`,
    });
    return 'error';
  }

  // 1. Values from defaults, pipeline parameters, overrides and edges.
  const upstream = new Map<string, ExecutionRecord>();
  for (const name of graphNode.upstream) {
    const id = run.nodes.find((node) => node.name === name)?.executionId;
    const record = id ? await deps.executions.getExecution(id) : null;
    if (record) upstream.set(name, record);
  }
  const values = resolveNodeValues({
    node: graphNode,
    step,
    pipeline: plan.graph.pipeline,
    runParameters: run.parameters,
    upstream,
  });
  const resolved = resolveParameterValues(step, values.parameters, {
    useDefaults: true,
  });
  if (resolved.errors.length > 0) {
    await finishNode(deps, {
      run,
      job,
      status: 'error',
      message: resolved.errors.join('; '),
    });
    return 'error';
  }
  const commands = buildCommand(step, resolved.values);
  const executionId = executionIdFor(job);
  const dir = join(deps.workDir, executionId);
  const folders = {
    repository: '',
    inputs: join(dir, 'inputs'),
    outputs: join(dir, 'outputs'),
    config: join(dir, 'config'),
  };
  await rm(dir, { recursive: true, force: true });
  await mkdir(folders.inputs, { recursive: true });
  await mkdir(folders.outputs, { recursive: true });
  await mkdir(folders.config, { recursive: true });

  try {
    // 2. Inputs, then the reuse check (it needs their checksums).
    let inputs;
    try {
      inputs = await prepareInputs(deps, {
        inputs: step.inputs,
        uris: values.inputs,
        dir: folders.inputs,
        repository: run.repository,
        trusted: run.trusted !== false,
      });
    } catch (error) {
      // Anything but a problem with an input itself (an unreachable
      // artifact store, a full disk) is infrastructure: retried.
      if (!(error instanceof InputPreparationError)) throw error;
      await finishNode(deps, {
        run,
        job,
        status: 'error',
        message: error.message,
      });
      return 'error';
    }
    const prepared = await deps.runtime.prepareImage(step.image);
    const key = reuseKey({
      commit: run.commit,
      image: prepared.digest ?? step.image,
      step: step.name,
      commands,
      parameters: resolved.values,
      inputs,
    });
    if (plan.graph.reuseExecutions) {
      const earlier = await deps.executions.findReuse(key);
      if (earlier && earlier !== executionId) {
        await finishNode(deps, {
          run,
          job,
          status: 'reused',
          executionId: earlier,
          message: `reused execution ${earlier}`,
        });
        return 'reused';
      }
    }

    // 3. The record, created once per (run, node, attempt).
    const record = await ensureExecutionRecord(deps, {
      run,
      job,
      executionId,
      step,
      commands,
      parameters: resolved.values,
      inputs,
      imageDigest: prepared.digest,
    });
    await deps.runs.updateRunNode(
      run.id,
      job.node,
      { status: 'started', executionId, startedAt: record.startedAt },
      { attempt: job.attempt },
    );
    if (run.status === 'queued' || run.status === 'created') {
      await deps.runs.updateRun(run.id, {
        status: 'running',
        startedAt: run.startedAt ?? record.startedAt,
      });
    }
    deps.onRunChange?.(run.id);
    for (const [name, content] of Object.entries(
      buildConfigFiles({
        executionId,
        counter: record.counter,
        commit: run.commit,
        step: step.name,
        image: step.image,
        repository: run.repository,
        createdAt: record.createdAt,
        runId: run.id,
        runCounter: run.counter,
        parameters: resolved.values,
        inputs,
      }),
    )) {
      await writeFile(join(folders.config, name), content);
    }

    // 4. The container, with the tree of the run's commit.
    const outcome = await runContainer(deps, {
      run,
      job,
      record,
      step,
      commands,
      folders,
      context,
      notes: values.notes,
    });
    return outcome;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function ensureExecutionRecord(
  deps: WorkerDeps,
  options: {
    run: RunRecord;
    job: StepJob;
    executionId: string;
    step: Step;
    commands: string[];
    parameters: Record<string, unknown>;
    inputs: ExecutionRecord['inputs'];
    imageDigest: string | null;
  },
): Promise<ExecutionRecord> {
  const existing = await deps.executions.getExecution(options.executionId);
  const now = new Date().toISOString();
  if (existing) {
    await deps.executions.updateExecution(
      existing.id,
      {
        status: 'started',
        startedAt: now,
        host: deps.host,
        inputs: options.inputs,
        imageDigest: options.imageDigest,
      },
      { attempt: options.job.attempt },
    );
    return { ...existing, startedAt: now };
  }
  const counter = await deps.executions.allocateCounter(options.run.repository);
  const record: ExecutionRecord = {
    id: options.executionId,
    counter,
    repository: options.run.repository,
    commit: options.run.commit,
    step: options.step.name,
    runId: options.run.id,
    node: options.job.node,
    image: options.step.image,
    imageDigest: options.imageDigest,
    command: options.commands,
    parameters: toJsonValue(options.parameters) as Record<string, unknown>,
    inputs: options.inputs,
    outputs: [],
    metrics: {},
    status: 'started',
    runtime: deps.runtime.kind,
    host: deps.host,
    attempt: options.job.attempt,
    createdAt: now,
    startedAt: now,
  };
  await deps.executions.createExecution(record);
  return record;
}
