/**
 * Runs one node of a run for one step job: claim → (pull the image →
 * inputs →) running → (outputs →) end. Each step of the way is reported to
 * the control plane as a node event; the worker never writes a status
 * itself. When an event is refused — the node was stopped by a cancel, or
 * another worker took the node over — the worker stops at once, removes
 * what it started, and writes nothing more.
 *
 * Safe to run again for the same job (a crash, a stalled job): the claim of
 * a started node is a takeover with a new attempt (its own execution id,
 * container and log), and the old attempt's writes are refused.
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildCommand,
  resolveParameterValues,
} from '../config/build-command.js';
import { collectOutputs } from '../artifacts/collect-outputs.js';
import { applyNodeEvent } from '../control/apply-node-event.js';
import { applyRunEvent } from '../control/apply-run-event.js';
import {
  loadRunPlan,
  stepForNode,
  type RunPlan,
} from '../control/load-run-plan.js';
import type { ExecutionRecord, OutputFileRecord } from '../model/execution.js';
import type { RunNodeState, RunRecord } from '../model/run.js';
import type { NodeEvent } from '../orchestrator/node-machine.js';
import { evaluateNodeActions } from '../orchestrator/node-actions.js';
import { findStepPolicyProblem } from '../orchestrator/find-step-policy-problem.js';
import { explainUnpinnedImage } from '../config/explain-unpinned-image.js';
import { resolveNodeValues } from '../orchestrator/resolve-node-values.js';
import type { RunGraph, RunGraphNode } from '../orchestrator/run-graph.js';
import { CLAIMABLE_RUN_STATUSES } from '../orchestrator/run-machine.js';
import type { StepJob } from '../queue/step-jobs.js';
import { GitError } from '../git/git-error.js';
import { RuntimeError } from '../runtime/runtime.js';
import type { DatumRecord } from '../store/index.js';
import { buildStepSpec, type ExecutionFolders } from './build-step-spec.js';
import { buildConfigFiles, toJsonValue } from './container-contract.js';
import type { AttemptGuard } from './attempt-guard.js';
import type { NodeCache } from './node-cache.js';
import type { NodeOutcome } from './node-outcome.js';
import { InputPreparationError, prepareInputs } from './prepare-inputs.js';
import { reuseKey } from './reuse-key.js';
import { writeThroughOutputs } from './write-through-outputs.js';
import { describeEnd, type EndReason } from '../model/end-reason.js';
import { ArtifactError } from '../artifacts/artifact-error.js';
import { runContainer } from './run-container.js';
import type { WorkerDeps } from './worker-deps.js';
import { whileStoreDown } from './while-store-down.js';
import { randomBytes } from 'node:crypto';
import { readTaskChildren } from '../control/read-task-children.js';
import { mergeTaskExecutions } from '../orchestrator/task/merge-task-executions.js';
import {
  taskNodeIndex,
  taskNodeNameOf,
} from '../orchestrator/task/task-children.js';
import {
  DistributedGroupError,
  joinDistributedGroup,
} from './join-distributed-group.js';
import { runTaskJob } from './run-task-job.js';

/** Thrown to the queue: the attempt failed for an infrastructure reason and is retried. */
export class RetryLater extends Error {}

export async function executeNode(
  deps: WorkerDeps,
  { cache, guard }: { cache: NodeCache; guard: AttemptGuard },
  job: StepJob,
  context: { lastAttempt: boolean },
): Promise<NodeOutcome> {
  const run = await cache.header(job.runId);
  if (!run) return 'stale';
  let plan: RunPlan;
  try {
    plan = await loadRunPlan(deps.configs, run);
  } catch (error) {
    await applyRunEvent(deps, {
      runId: run.id,
      event: { type: 'fail', reason: (error as Error).message },
    });
    return 'error';
  }
  // A task's child or batch join runs under its task node's graph node.
  const taskPart = taskNodeNameOf(plan.graph, job.node);
  const graphNode = plan.graph.byName.get(taskPart?.task ?? job.node);
  const index = taskPart
    ? taskNodeIndex(plan.graph, taskPart)
    : graphNode?.index;
  if (!graphNode || index !== job.nodeIndex) return 'stale';
  const queued: RunNodeState = {
    name: job.node,
    step: taskPart?.kind === 'join' ? '' : (graphNode.step ?? ''),
    index: job.nodeIndex,
    status: 'queued',
    attempt: job.attempt,
    generation: job.generation,
  };
  if (graphNode.type === 'task' && taskPart?.kind !== 'child') {
    return runTaskJob(deps, {
      run,
      plan,
      node: graphNode,
      queued,
      upstream: () =>
        upstreamExecutions(deps, cache, run, graphNode, job, plan.graph),
      ...(taskPart ? { batch: taskPart.number } : {}),
    });
  }
  const child =
    taskPart?.kind === 'child'
      ? (await deps.runs.getChildSpecs(run.id, [job.node]))[0]
      : undefined;
  if (taskPart && !child) return 'stale';
  const task = child ? graphNode.task : undefined;
  // A re-run with reuse (kiln rerun, the run page's button) reuses too.
  const reuseExecutions =
    plan.graph.reuseExecutions ||
    task?.reuseChildren === true ||
    run.trigger?.reuse === true;
  const step = stepForNode(plan, graphNode);

  // 1. What the node runs: values from parameters and upstream edges (a
  // task's child: its own values over its task node's).
  const upstream = await upstreamExecutions(
    deps,
    cache,
    run,
    graphNode,
    job,
    plan.graph,
  );
  const nodeValues = step
    ? resolveNodeValues({
        node: graphNode,
        step,
        pipeline: plan.graph.pipeline,
        runParameters: run.parameters,
        upstream,
      })
    : undefined;
  const values =
    nodeValues && child
      ? {
          ...nodeValues,
          parameters: { ...nodeValues.parameters, ...child.parameters },
        }
      : nodeValues;
  const resolved =
    step && values
      ? resolveParameterValues(step, values.parameters, { useDefaults: true })
      : undefined;
  const problem = !step
    ? `node "${job.node}" has no step to run`
    : resolved && resolved.errors.length > 0
      ? resolved.errors.join('; ')
      : deps.stepPolicy
        ? findStepPolicyProblem(step, run, deps.stepPolicy)
        : undefined;
  const commands =
    step && resolved && !problem ? buildCommand(step, resolved.values) : [];
  const parameters = toJsonValue(resolved?.values ?? {}) as Record<
    string,
    unknown
  >;
  const workspace = deps.runtime.workspace !== false;
  const wantsInputs = step
    ? step.inputs.some(
        (input) => (values?.inputs[input.name] ?? input.default).length > 0,
      )
    : false;
  const image = step ? await cache.image(step.image) : null;
  const fast = !problem && image !== null && !wantsInputs && !reuseExecutions;

  const draft =
    (digest: string | null, inputs: ExecutionRecord['inputs']) =>
    (
      executionId: string,
      attempt: number,
    ): Omit<ExecutionRecord, 'counter'> => {
      const now = new Date().toISOString();
      return {
        id: executionId,
        repository: run.repository,
        commit: run.commit,
        step: step?.name ?? job.node,
        runId: run.id,
        node: job.node,
        image: step?.image ?? '',
        imageDigest: digest,
        command: commands,
        parameters,
        inputs,
        outputs: [],
        metrics: {},
        status: 'started',
        runtime: deps.runtime.kind,
        host: deps.host,
        worker: deps.workerId,
        attempt,
        createdAt: now,
        startedAt: now,
        ...(values && values.notes.length > 0 ? { notes: values.notes } : {}),
      };
    };

  // 2. The claim: from here on this worker holds the node's attempt.
  const claim = await applyNodeEvent(deps, {
    run,
    graph: plan.graph,
    from: queued,
    event: {
      type: 'claim',
      worker: deps.workerId,
      generation: job.generation,
      phase: fast ? 'running' : 'pulling',
    },
    runIn: CLAIMABLE_RUN_STATUSES,
    execution: draft(image?.digest ?? null, []),
    ...(child ? { child } : {}),
  });
  if (!claim.applied) {
    return claim.runStatus === 'waiting-approval' ? 'held' : 'stale';
  }
  let node = claim.node;
  const attempt = node.attempt;
  const executionId = node.executionId as string;
  let counter = claim.counter ?? 0;
  // A takeover: the lost attempt's container must not run beside ours. If
  // it ran here (its folders are on this host), it is adopted instead of
  // run again: a step that finished, or still runs, is not repeated.
  const adopt =
    claim.from.status === 'started' && claim.from.executionId
      ? await adoptableOrRemoved(deps, claim.from.executionId, workspace)
      : undefined;

  const abort = new AbortController();
  let stoppedBy: string | undefined;
  const stopNow = (reason: string) => {
    stoppedBy ??= reason;
    abort.abort(new Error(reason));
  };
  const release = guard.hold(
    { runId: run.id, node: node.name, attempt, executionId },
    stopNow,
  );

  /** Reports an event of this attempt; false (and stop) when refused. */
  const report = async (
    event: NodeEvent,
    extra: Partial<Parameters<typeof applyNodeEvent>[1]> = {},
  ): Promise<boolean> => {
    const result = await whileStoreDown(() =>
      applyNodeEvent(deps, {
        run,
        graph: plan.graph,
        from: node,
        event,
        ...(child ? { child } : {}),
        ...extra,
      }),
    );
    if (!result.applied) {
      stopNow(result.node?.message ?? result.why);
      return false;
    }
    node = result.node;
    if (result.counter !== undefined) counter = result.counter;
    return true;
  };

  const dir = join(deps.workDir, adopt ?? executionId);
  const folders: ExecutionFolders = {
    repository: '',
    inputs: join(dir, 'inputs'),
    outputs: join(dir, 'outputs'),
    config: join(dir, 'config'),
  };
  try {
    if (problem || !step) {
      await report({ type: 'failed', attempt, message: problem ?? 'no step' });
      return 'error';
    }
    if (workspace && !adopt) {
      await rm(dir, { recursive: true, force: true });
      await Promise.all([
        mkdir(folders.inputs, { recursive: true }),
        mkdir(folders.outputs, { recursive: true }),
        mkdir(folders.config, { recursive: true }),
      ]);
    }

    // 3. Image and inputs, then the reuse check (it needs their checksums).
    let digest = image?.digest ?? null;
    let inputs: ExecutionRecord['inputs'] = [];
    if (adopt) {
      if (
        node.phase !== 'running' &&
        !(await report(
          { type: 'phase', attempt, phase: 'running' },
          { execution: draft(digest, inputs) },
        ))
      ) {
        return 'stopped';
      }
    } else if (!fast) {
      if (!image)
        digest = (await deps.runtime.prepareImage(step.image, abort.signal))
          .digest;
      if (!(await report({ type: 'phase', attempt, phase: 'inputs' })))
        return 'stopped';
      try {
        inputs = await prepareInputs(deps, {
          inputs: step.inputs,
          uris: values?.inputs ?? {},
          dir: folders.inputs,
          repository: run.repository,
          trusted: run.trusted !== false,
          signal: abort.signal,
        });
      } catch (error) {
        if (!(error instanceof InputPreparationError) || abort.signal.aborted)
          throw error;
        await report({ type: 'failed', attempt, message: error.message });
        return 'error';
      }
      // Lineage: which datums this execution read (best effort).
      await deps.executions
        .recordConsumers(
          executionId,
          inputs.flatMap((file) =>
            file.uri.startsWith('datum://') ? [file.uri.slice(8)] : [],
          ),
        )
        .catch(() => undefined);
      if (reuseExecutions) {
        const earlier = await deps.executions.findReuse(
          reuseKey({
            commit: run.commit,
            image: digest ?? step.image,
            step: step.name,
            commands,
            parameters,
            inputs,
          }),
        );
        if (earlier && earlier !== executionId) {
          await report({
            type: 'reused',
            attempt,
            executionId: earlier,
            message: `reused execution ${earlier}`,
          });
          return 'reused';
        }
      }
      if (
        !(await report(
          { type: 'phase', attempt, phase: 'running' },
          { execution: draft(digest, inputs) },
        ))
      ) {
        return 'stopped';
      }
    }

    // 4. The container, with the tree of the run's commit.
    const secrets =
      run.trusted === false || !deps.secretsFor
        ? {}
        : await deps.secretsFor(run.repository);
    let tree: { path: string; release(): Promise<void> } | undefined;
    if (workspace && !adopt) {
      await writeConfigFiles(folders.config, {
        executionId,
        counter,
        run,
        step: step.name,
        image: step.image,
        parameters: resolved?.values ?? {},
        inputs,
      });
      if (child && task?.type === 'distributed') {
        try {
          await joinDistributedGroup(deps.runs, {
            runId: run.id,
            task: child.task,
            memberId: String(child.number - 1),
            required: child.batchSize,
            executionId,
            identity: `${deps.workerId}@${deps.host}`,
            configDir: folders.config,
            signal: abort.signal,
          });
        } catch (error) {
          if (!(error instanceof DistributedGroupError)) throw error;
          await report({ type: 'failed', attempt, message: error.message });
          return 'error';
        }
      }
      const source = run.source ?? { id: run.repository, url: run.repository };
      tree = await deps.git.acquireTree(source, source.tree ?? run.commit);
    }
    let outcome;
    try {
      outcome = await runContainer(deps, {
        executionId,
        spec: buildStepSpec({
          executionId,
          attempt,
          step,
          commands,
          folders: { ...folders, repository: tree?.path ?? '' },
          secrets,
          labels: { 'kiln.run': run.id, 'kiln.node': String(job.nodeIndex) },
          limits: deps.stepLimits,
        }),
        secrets: Object.values(secrets),
        signal: abort.signal,
        adopt,
        // The local runtime runs no image at all: nothing to pin.
        preface:
          deps.runtime.kind === 'local'
            ? []
            : describeUnpinnedImage(step.image, digest),
      });
    } finally {
      await tree?.release();
    }
    // A stopped attempt's last lines are its own: kept, though its end
    // is not (the cancel already ended it).
    const keepTail = () =>
      whileStoreDown(() =>
        deps.executions.appendOutput(executionId, outcome.tail),
      );
    if (stoppedBy !== undefined) {
      await keepTail();
      return 'stopped';
    }

    // 5. Outputs, kept whatever the exit (a failed step's files too).
    const outputs: OutputFileRecord[] = [];
    const datums: DatumRecord[] = [];
    let overLimit: string | undefined;
    const skippedOutputs: string[] = [];
    if (workspace && (await readdir(folders.outputs)).length > 0) {
      if (!(await report({ type: 'phase', attempt, phase: 'uploading' })))
        return 'stopped';
      const collected = await collectOutputs(folders.outputs, deps.artifacts, {
        signal: abort.signal,
        maxTotalBytes: deps.stepLimits?.outputBytes,
      }).catch((error: unknown) => {
        // Too much written is the step's failure: nothing stored, it ends in error.
        if (!(error instanceof ArtifactError && error.code === 'OUTPUT_LIMIT'))
          throw error;
        overLimit = error.message;
        return { files: [], skipped: [] };
      });
      skippedOutputs.push(
        ...collected.skipped.map(
          (item) => `output ${item.path} not stored: ${item.reason}`,
        ),
        ...(await writeThroughOutputs(deps, {
          step,
          run,
          executionId,
          files: collected.files,
        })),
      );
      for (const file of collected.files) {
        const datum = `d${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
        datums.push({
          id: datum,
          sha256: file.sha256,
          size: file.size,
          path: file.path,
          executionId,
          repository: run.repository,
          ...(file.alias ? { alias: file.alias } : {}),
        });
        outputs.push({
          path: file.path,
          size: file.size,
          sha256: file.sha256,
          tags: file.tags,
          ...(file.alias ? { alias: file.alias } : {}),
          datum: `datum://${datum}`,
        });
      }
    }

    // 6. The end, with the node's actions.
    const reason: EndReason =
      overLimit !== undefined && deps.stepLimits?.outputBytes !== undefined
        ? {
            kind: 'disk-limit',
            what: 'outputs',
            limitBytes: deps.stepLimits.outputBytes,
          }
        : outcome.result.reason;
    const status =
      reason.kind === 'exited' && reason.exitCode === 0
        ? 'complete'
        : reason.kind === 'stopped'
          ? 'stopped'
          : 'error';
    const action =
      status === 'stopped' || child || graphNode.actions.length === 0
        ? undefined
        : evaluateAction(
            deps,
            graphNode,
            status,
            outcome.metrics,
            parameters,
            run.id,
          );
    if (action?.status === 'waiting-approval') {
      // Held first: what this node releases waits for the approval.
      await applyRunEvent(deps, {
        runId: run.id,
        event: { type: 'action', ...action },
      });
    }
    const notes = [
      ...(values?.notes ?? []),
      ...outcome.notes,
      ...skippedOutputs,
      ...(overLimit === undefined ? [] : [overLimit]),
    ];
    const close: Partial<ExecutionRecord> = {
      endReason: reason,
      metrics: outcome.metrics,
      outputs,
      startedAt: outcome.result.startedAt.toISOString(),
      endedAt: outcome.result.endedAt.toISOString(),
      ...(notes.length > 0 ? { notes } : {}),
    };
    const finished = await report(
      {
        type: 'finished',
        attempt,
        outcome: status,
        message: describeFinish(reason, outcome.metrics),
      },
      {
        close,
        output: { executionId, ...outcome.tail },
        reuse: {
          key: reuseKey({
            commit: run.commit,
            image: digest ?? step.image,
            step: step.name,
            commands,
            parameters,
            inputs,
          }),
        },
        datums,
      },
    );
    if (!finished) {
      await keepTail();
      return 'stopped';
    }
    cache.rememberExecution({
      ...draft(digest, inputs)(executionId, attempt),
      counter,
      status,
      ...close,
    } as ExecutionRecord);
    if (action && action.status !== 'waiting-approval') {
      await applyRunEvent(deps, {
        runId: run.id,
        event: { type: 'action', ...action },
      });
    }
    return status;
  } catch (error) {
    if (stoppedBy !== undefined) return 'stopped';
    if (
      error instanceof RuntimeError &&
      error.code === 'IMAGE_UNAVAILABLE' &&
      step
    ) {
      cache.forgetImage(step.image);
    }
    const retry = !context.lastAttempt && !isPermanent(error);
    const message = error instanceof Error ? error.message : String(error);
    await report({ type: 'infra-failure', attempt, message, retry });
    if (retry) throw new RetryLater(message, { cause: error });
    return 'error';
  } finally {
    release();
    if (workspace)
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The lost attempt's execution id when its container can be adopted: the
 * engine has it (running or exited) and its folders are on this host (the
 * worker that lost it was this one, restarted). Otherwise its container,
 * if any, is removed and the step runs again.
 */
async function adoptableOrRemoved(
  deps: WorkerDeps,
  lost: string,
  workspace: boolean,
): Promise<string | undefined> {
  if (workspace && deps.runtime.adoptExecution && deps.runtime.findExecution) {
    const here = await stat(join(deps.workDir, lost, 'outputs')).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (here && (await deps.runtime.findExecution(lost)) !== null) return lost;
  }
  await deps.runtime.removeExecution?.(lost);
  return undefined;
}

/**
 * Infrastructure failures a retry can't fix: an image that can't be had,
 * a step network that can't be isolated, a repository kiln has no access to.
 */
function isPermanent(error: unknown): boolean {
  if (error instanceof RuntimeError) {
    return (
      error.code === 'IMAGE_UNAVAILABLE' || error.code === 'NETWORK_UNAVAILABLE'
    );
  }
  return error instanceof GitError && !error.retryable;
}

/**
 * Execution records of the node's upstream nodes (for its edges); a task
 * node upstream gives its completed children's executions taken together.
 */
async function upstreamExecutions(
  deps: WorkerDeps,
  cache: NodeCache,
  run: RunRecord,
  graphNode: RunGraphNode,
  job: StepJob,
  graph: RunGraph,
): Promise<Map<string, ExecutionRecord>> {
  const records = new Map<string, ExecutionRecord>();
  if (graphNode.incoming.length === 0) return records;
  const ids = new Map<string, string>();
  const missing: string[] = [];
  for (const name of graphNode.upstream) {
    if (graph.byName.get(name)?.type === 'task') {
      const children = await readTaskChildren(deps, {
        runId: run.id,
        task: name,
        executions: true,
      });
      const merged = mergeTaskExecutions(
        name,
        children.flatMap((child) =>
          child.execution &&
          (child.state?.status === 'complete' ||
            child.state?.status === 'reused')
            ? [child.execution]
            : [],
        ),
      );
      if (merged) records.set(name, merged);
      continue;
    }
    const known = job.upstream?.[name];
    if (known) ids.set(name, known);
    else missing.push(name);
  }
  if (missing.length > 0) {
    const states = await deps.runs.getNodes(run.id, missing);
    states.forEach((state, index) => {
      if (state?.executionId)
        ids.set(missing[index] as string, state.executionId);
    });
  }
  for (const [name, id] of ids) {
    const record = await cache.execution(id);
    if (record) records.set(name, record);
  }
  return records;
}

function evaluateAction(
  deps: WorkerDeps,
  graphNode: RunGraphNode,
  status: 'complete' | 'error',
  metrics: Record<string, unknown>,
  parameters: Record<string, unknown>,
  runId: string,
) {
  const { outcome, notes } = evaluateNodeActions({
    node: graphNode.name,
    actions: graphNode.actions,
    when: status === 'complete' ? 'node-complete' : 'node-error',
    context: { metadata: metrics, parameters },
  });
  for (const note of notes) {
    deps.logger.warn({ runId, node: graphNode.name, note }, 'node action');
  }
  return outcome;
}

async function writeConfigFiles(
  dir: string,
  options: {
    executionId: string;
    counter: number;
    run: RunRecord;
    step: string;
    image: string;
    parameters: Record<string, unknown>;
    inputs: ExecutionRecord['inputs'];
  },
): Promise<void> {
  const files = buildConfigFiles({
    executionId: options.executionId,
    counter: options.counter,
    commit: options.run.commit,
    step: options.step,
    image: options.image,
    repository: options.run.repository,
    createdAt: new Date().toISOString(),
    runId: options.run.id,
    runCounter: options.run.counter,
    parameters: options.parameters,
    inputs: options.inputs,
  });
  await Promise.all(
    Object.entries(files).map(([name, content]) =>
      writeFile(join(dir, name), content),
    ),
  );
}

/** The log line and note for an image with no digest and no tag or `latest`. */
function describeUnpinnedImage(image: string, digest: string | null): string[] {
  const unpinned = explainUnpinnedImage(image);
  if (unpinned === undefined) return [];
  const ran =
    digest === null
      ? 'the digest it ran is not known to this runtime'
      : `the digest it ran, ${digest}, is recorded`;
  return [
    `image ${image} is not pinned (${unpinned}): ${ran}; pin a tag or digest`,
  ];
}

/**
 * The node's message at its end. A step that exits 0 without printing a
 * metrics line says so ("no metrics"): often meant (a data step), but a
 * training step whose metrics went missing looks the same otherwise. Only
 * information: the node is complete either way.
 */
function describeFinish(
  reason: EndReason,
  metrics: Record<string, unknown>,
): string {
  const end = describeEnd(reason);
  return reason.kind === 'exited' &&
    reason.exitCode === 0 &&
    Object.keys(metrics).length === 0
    ? `${end}, no metrics`
    : end;
}
