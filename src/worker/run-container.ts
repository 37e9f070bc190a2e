/**
 * The container part of an execution: the commit's tree, the runtime run
 * with logs and metrics streamed to the store as they come, cancellation,
 * outputs into the artifact store, and the final record.
 */
import { randomBytes } from 'node:crypto';
import type { Step } from '../config/config-model.js';
import { collectOutputs } from '../artifacts/collect-outputs.js';
import {
  createOutputRecorder,
  type RecorderStats,
} from '../metrics/output-recorder.js';
import { createSecretMasker } from '../metrics/secret-masker.js';
import type { EndReason } from '../model/end-reason.js';
import type {
  ExecutionRecord,
  MetricsEvent,
  OutputFileRecord,
} from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';
import type { RunRecord } from '../model/run.js';
import { isFinalRunStatus } from '../orchestrator/next-run-actions.js';
import type { StepJob } from '../queue/step-jobs.js';
import { RuntimeError, type RunResult } from '../runtime/runtime.js';
import { buildStepSpec, type ExecutionFolders } from './build-step-spec.js';
import type { NodeOutcome } from './node-outcome.js';
import { failNodeForInfrastructure, finishNode } from './finish-node.js';
import { reuseKey } from './reuse-key.js';
import type { WorkerDeps } from './worker-deps.js';
import { writeThroughOutputs } from './write-through-outputs.js';

export async function runContainer(
  deps: WorkerDeps,
  options: {
    run: RunRecord;
    job: StepJob;
    record: ExecutionRecord;
    step: Step;
    commands: string[];
    folders: ExecutionFolders;
    context: { lastAttempt: boolean };
    /** Notes gathered before the container (edges that delivered nothing). */
    notes?: string[];
  },
): Promise<NodeOutcome> {
  const { run, job, record, step } = options;
  const source = run.source ?? { id: run.repository, url: run.repository };
  let tree;
  let result: RunResult;
  const metrics: Record<string, number | string | boolean | null> =
    Object.create(null);
  const notes: string[] = [...(options.notes ?? [])];
  try {
    tree = await deps.git.acquireTree(source, source.tree ?? run.commit);
    const secrets =
      run.trusted === false || !deps.secretsFor
        ? {}
        : await deps.secretsFor(run.repository);
    const spec = buildStepSpec({
      executionId: record.id,
      attempt: job.attempt,
      step,
      commands: options.commands,
      folders: { ...options.folders, repository: tree.path },
      secrets,
      labels: { 'kiln.run': run.id, 'kiln.node': String(job.nodeIndex) },
    });
    const writes = createWriteChain(deps, record.id);
    const recorder = createOutputRecorder({
      mask: createSecretMasker(Object.values(secrets)),
      onLogLines: (lines: LogLine[]) => writes.logs(lines),
      onMetrics: (event: MetricsEvent) => {
        Object.assign(metrics, event.values);
        writes.metrics(event);
      },
    });
    const abort = new AbortController();
    const watcher = watchForCancel(deps, run.id, job, abort);
    // A quiet step's last lines still reach the store (and the UI) soon.
    const flusher = setInterval(() => recorder.flush(), 500);
    flusher.unref();
    try {
      result = await deps.runtime.run(spec, recorder, abort.signal);
    } finally {
      clearInterval(watcher);
      clearInterval(flusher);
      notes.push(...describeRecorderStats(recorder.end()));
      await writes.flush();
    }
  } catch (error) {
    await tree?.release();
    const retryable =
      !(error instanceof RuntimeError) || error.code !== 'IMAGE_UNAVAILABLE';
    if (retryable && !options.context.lastAttempt) throw error;
    await failNodeForInfrastructure(deps, {
      run,
      job,
      executionId: record.id,
      error,
    });
    return 'error';
  }
  await tree.release();

  // Outputs are kept whatever the exit: a failed or stopped step's files too.
  const outputs: OutputFileRecord[] = [];
  const collected = await collectOutputs(
    options.folders.outputs,
    deps.artifacts,
  );
  notes.push(
    ...(await writeThroughOutputs(deps, {
      step,
      run,
      executionId: record.id,
      files: collected.files,
    })),
  );
  for (const file of collected.files) {
    const datum = `d${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
    await deps.executions.registerDatum({
      id: datum,
      sha256: file.sha256,
      size: file.size,
      path: file.path,
      executionId: record.id,
      repository: record.repository,
      alias: file.alias,
    });
    outputs.push({
      path: file.path,
      size: file.size,
      sha256: file.sha256,
      tags: file.tags,
      alias: file.alias,
      datum: `datum://${datum}`,
    });
  }
  const status =
    result.reason.kind === 'exited' && result.reason.exitCode === 0
      ? 'complete'
      : result.reason.kind === 'stopped'
        ? 'stopped'
        : 'error';
  await deps.executions.updateExecution(
    record.id,
    {
      status,
      endReason: result.reason,
      metrics: { ...metrics },
      outputs,
      notes,
      startedAt: result.startedAt.toISOString(),
      endedAt: result.endedAt.toISOString(),
    },
    { attempt: job.attempt },
  );
  if (status === 'complete') {
    await deps.executions.setReuse(
      reuseKey({
        commit: run.commit,
        image: record.imageDigest ?? record.image,
        step: step.name,
        commands: options.commands,
        parameters: record.parameters,
        inputs: record.inputs,
      }),
      record.id,
    );
  }
  await finishNode(deps, {
    run,
    job,
    status,
    message: describeEnd(result.reason),
    metrics,
    parameters: record.parameters,
  });
  return status;
}

/** Store writes in arrival order, without blocking the output stream. */
function createWriteChain(deps: WorkerDeps, executionId: string) {
  let chain: Promise<void> = Promise.resolve();
  const queue = (write: () => Promise<void>) => {
    chain = chain.then(write).catch((error: unknown) => {
      deps.logger.error({ err: error, executionId }, 'could not store output');
    });
  };
  return {
    logs: (lines: LogLine[]) =>
      queue(async () => {
        await deps.executions.appendLog(executionId, lines);
      }),
    metrics: (event: MetricsEvent) =>
      queue(() => deps.executions.appendMetrics(executionId, [event])),
    flush: () => chain,
  };
}

function watchForCancel(
  deps: WorkerDeps,
  runId: string,
  job: StepJob,
  abort: AbortController,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    deps.runs
      .getRun(runId)
      .then((run) => {
        const node = run?.nodes.find((item) => item.name === job.node);
        if (
          !run ||
          isFinalRunStatus(run.status) ||
          !node ||
          node.attempt !== job.attempt ||
          node.status === 'stopped'
        ) {
          abort.abort();
        }
      })
      .catch(() => undefined);
  }, deps.cancelPollMs ?? 1000);
  timer.unref();
  return timer;
}

function describeRecorderStats(stats: RecorderStats): string[] {
  const notes: string[] = [];
  if (stats.ignoredMetricLines > 0) {
    notes.push(
      `${stats.ignoredMetricLines} line(s) starting with { were not valid metrics JSON and were kept as log only`,
    );
  }
  if (stats.droppedValues > 0) {
    notes.push(
      `${stats.droppedValues} metric value(s) dropped (NaN/Infinity, nested too deep, or unsafe keys)`,
    );
  }
  if (stats.truncatedLines > 0) {
    notes.push(
      `${stats.truncatedLines} log line(s) longer than the line limit were truncated`,
    );
  }
  if (stats.droppedLogBytes > 0) {
    notes.push(
      `${stats.droppedLogBytes} bytes of log were not stored (log size limit)`,
    );
  }
  return notes;
}

export function describeEnd(reason: EndReason): string {
  switch (reason.kind) {
    case 'exited':
      return reason.exitCode === 0
        ? 'exited 0'
        : `failed: exit code ${reason.exitCode}`;
    case 'out-of-memory':
      return `out of memory${reason.limitBytes ? ` (limit ${Math.round(reason.limitBytes / 1048576)} MiB)` : ''}`;
    case 'timed-out':
      return `timed out after ${Math.round(reason.afterMs / 1000)}s`;
    case 'no-output':
      return `no output for ${Math.round(reason.afterMs / 1000)}s`;
    case 'stopped':
      return 'stopped';
    case 'infra-error':
      return `infrastructure error: ${reason.message}`;
  }
}
