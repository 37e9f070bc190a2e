/**
 * The state machine of one pipeline node: `(state, event) → (state′,
 * effects)`, pure — no I/O, no clock of its own. It is the only place that
 * decides what a node's status becomes; the store applies its answers with
 * a compare-and-set on the state it was computed from, so a stale or late
 * writer can never overwrite a newer or terminal state.
 *
 *   pending ──ready──▶ queued ──claim──▶ started(pulling│inputs│running│uploading)
 *      │                 │                  │ phase moves forward only
 *      │blocked          │stop              ├─finished──▶ complete │ error │ stopped
 *      ▼                 ▼                  ├─finished(error, retry)──▶ queued (generation+1)
 *   skipped           stopped               ├─reused──▶ reused
 *                                           ├─infra-failure──▶ queued (retry) │ error
 *                                           ├─claim (stalled job, same generation)──▶ started, attempt+1
 *                                           └─stop / lost / timeout──▶ stopped │ error
 *
 * A task node has no execution of its own: queued ──expand──▶ started
 * (its children run as nodes `name#k`) ──settle-task──▶ complete │ error;
 * a batch join `name@b` goes queued ──settle-task──▶ complete.
 *
 * Terminal statuses (complete, error, stopped, skipped, reused) never
 * change. Events from a worker name the attempt they belong to; an event
 * from another attempt is stale and ignored. A claim names the generation
 * of the job that carries it; a job of an older queueing is stale.
 */
import type { OnError } from '../config/config-model.js';
import type { EndReason } from '../model/end-reason.js';
import type { NodePhase, NodeStatus, RunNodeState } from '../model/run.js';

/** Attempts a node with `on-error: retry` gets in all. */
export const RETRY_ATTEMPTS = 2;

export const TERMINAL_NODE_STATUSES: readonly NodeStatus[] = [
  'complete',
  'error',
  'stopped',
  'skipped',
  'reused',
];

export const NODE_PHASES: readonly NodePhase[] = [
  'pulling',
  'inputs',
  'running',
  'uploading',
];

export function isTerminalNode(status: NodeStatus): boolean {
  return TERMINAL_NODE_STATUSES.includes(status);
}

export type NodeEvent =
  /** Every upstream node succeeded (or failed with `on-error: continue`). */
  | { type: 'ready' }
  /** An upstream node was skipped or stopped: this one can never run. */
  | { type: 'blocked'; reason: string }
  /** A worker took the node's job (again, after a stall: a takeover). */
  | { type: 'claim'; worker: string; generation: number; phase: NodePhase }
  /** The attempt moved on: image pulled, inputs ready, outputs being stored. */
  | { type: 'phase'; attempt: number; phase: NodePhase }
  /** An earlier identical execution is reused instead of running. */
  | { type: 'reused'; attempt: number; executionId: string; message: string }
  /** The attempt ended for a reason of the step's own (exit, limits, stop). */
  | {
      type: 'finished';
      attempt: number;
      outcome: 'complete' | 'error' | 'stopped';
      message: string;
    }
  /**
   * The attempt could not start for a reason of the step's own (a bad
   * parameter, a missing input): the node fails like a failed command.
   */
  | { type: 'failed'; attempt: number; message: string }
  /** The attempt failed for a reason outside the step (engine, network). */
  | { type: 'infra-failure'; attempt: number; message: string; retry: boolean }
  /** The queue gave up on the node's job (its workers kept vanishing). */
  | { type: 'lost'; generation: number; message: string }
  /** The node outlived its deadline in a non-terminal state. */
  | { type: 'timeout'; message: string }
  /** The run is being wound down (cancel, supersede, an action, stop-all). */
  | { type: 'stop'; reason: string }
  /**
   * A worker took a task node's job and created its children: the task
   * runs (it has no execution of its own; its children do).
   */
  | { type: 'expand'; worker: string; generation: number }
  /**
   * A task node's children are all done (`outcome` by its policy), or a
   * batch join was handled: the node ends without an execution.
   */
  | { type: 'settle-task'; outcome: 'complete' | 'error'; message: string };

export type NodeEffect =
  /** Add a step job for the node's current generation. */
  | { type: 'enqueue' }
  /** Create the execution record of the current attempt (it starts running). */
  | { type: 'record-execution'; executionId: string }
  /**
   * Close the execution record of an attempt with this outcome; `endReason`
   * is set when kiln ended it (the worker gives its own otherwise).
   */
  | {
      type: 'close-execution';
      executionId: string;
      status: 'complete' | 'error' | 'stopped';
      message: string;
      endReason?: EndReason;
    }
  /** Tell the worker holding the attempt to stop its container. */
  | { type: 'stop-execution'; executionId: string; worker?: string }
  /** The run has a started node (it becomes running). */
  | { type: 'run-started' }
  /**
   * The node reached a terminal state: its successors may start
   * (`satisfied`), can never start (`blocked`), or the run fails (`fail-run`,
   * `on-error: stop-all`, the default).
   */
  | { type: 'settled'; as: 'satisfied' | 'blocked' | 'fail-run' };

export interface NodeContext {
  runId: string;
  /** ISO time of the change. */
  now: string;
  /** The node's `on-error` policy. @defaultValue `stop-all` */
  onError?: OnError;
}

export type NodeTransition =
  | { applied: true; node: RunNodeState; effects: NodeEffect[] }
  | { applied: false; why: string };

/** The execution id of an attempt: stable, so a retried write finds it. */
export function executionIdFor(
  runId: string,
  index: number,
  attempt: number,
): string {
  return `${runId}-${index}-${attempt}`;
}

/** A node before anything happened to it. */
export function initialNode(options: {
  name: string;
  step: string;
  index: number;
}): RunNodeState {
  return { ...options, status: 'pending', attempt: 0, generation: 0 };
}

export function nodeTransition(
  node: RunNodeState,
  event: NodeEvent,
  context: NodeContext,
): NodeTransition {
  if (isTerminalNode(node.status)) {
    return ignored(`node "${node.name}" is ${node.status} (terminal)`);
  }
  switch (event.type) {
    case 'ready':
      if (node.status !== 'pending') return ignored('not pending');
      return applied(
        {
          ...bare(node),
          status: 'queued',
          generation: node.generation + 1,
        },
        [{ type: 'enqueue' }],
      );
    case 'blocked':
      if (node.status !== 'pending') return ignored('not pending');
      return applied(
        {
          ...bare(node),
          status: 'skipped',
          message: event.reason,
          endedAt: context.now,
        },
        [{ type: 'settled', as: 'blocked' }],
      );
    case 'claim':
      return claim(node, event, context);
    case 'phase':
      return phase(node, event);
    case 'reused':
      if (!isAttempt(node, event.attempt)) return stale(node, event.attempt);
      if (node.phase === 'running' || node.phase === 'uploading') {
        return ignored('the attempt already runs');
      }
      return applied(
        {
          ...bare(node),
          status: 'reused',
          executionId: event.executionId,
          message: event.message,
          startedAt: node.startedAt,
          endedAt: context.now,
        },
        [{ type: 'settled', as: 'satisfied' }],
      );
    case 'finished':
      return finished(node, event, context);
    case 'failed':
      if (!isAttempt(node, event.attempt)) return stale(node, event.attempt);
      return failed(node, event.message, context, {
        kind: 'exited',
        exitCode: 1,
      });
    case 'infra-failure':
      return infraFailure(node, event, context);
    case 'lost':
      if (node.generation !== event.generation) {
        return ignored('a newer queueing holds the node');
      }
      return failed(node, `infrastructure: ${event.message}`, context);
    case 'timeout':
      return failed(node, event.message, context);
    case 'stop':
      return stop(node, event.reason, context);
    case 'expand':
      if (node.status !== 'queued') return ignored('not queued');
      if (event.generation !== node.generation) {
        return ignored(
          `job of generation ${event.generation}, node is at ${node.generation}`,
        );
      }
      return applied(
        {
          ...bare(node),
          status: 'started',
          phase: 'running',
          attempt: node.attempt + 1,
          worker: event.worker,
          startedAt: context.now,
        },
        [],
      );
    case 'settle-task':
      if (node.executionId !== undefined) {
        return ignored('the node has an execution: it ends with it');
      }
      if (node.status !== 'started' && node.status !== 'queued') {
        return ignored(`node "${node.name}" is ${node.status}`);
      }
      return applied(
        {
          ...bare(node),
          status: event.outcome,
          message: event.message,
          ...(node.startedAt ? { startedAt: node.startedAt } : {}),
          endedAt: context.now,
        },
        [settle(event.outcome, context)],
      );
  }
}

function claim(
  node: RunNodeState,
  event: Extract<NodeEvent, { type: 'claim' }>,
  context: NodeContext,
): NodeTransition {
  if (node.status !== 'queued' && node.status !== 'started') {
    return ignored(`node "${node.name}" is ${node.status}, not queued`);
  }
  if (event.generation !== node.generation) {
    return ignored(
      `job of generation ${event.generation}, node is at ${node.generation}`,
    );
  }
  const attempt = node.attempt + 1;
  const executionId = executionIdFor(context.runId, node.index, attempt);
  const effects: NodeEffect[] = [{ type: 'run-started' }];
  if (node.status === 'started' && node.executionId) {
    // The job came back after its worker vanished: that attempt is over.
    const holder = node.worker ? `worker ${node.worker}` : 'its worker';
    if (recorded(node)) {
      effects.push({
        type: 'close-execution',
        executionId: node.executionId,
        status: 'error',
        message: `infrastructure: ${holder} was lost; attempt ${attempt} takes over`,
        endReason: {
          kind: 'infra-error',
          message: `${holder} was lost; attempt ${attempt} takes over`,
        },
      });
    }
    effects.push({
      type: 'stop-execution',
      executionId: node.executionId,
      ...worker(node),
    });
  }
  if (event.phase === 'running') {
    effects.push({ type: 'record-execution', executionId });
  }
  return applied(
    {
      name: node.name,
      step: node.step,
      index: node.index,
      status: 'started',
      phase: event.phase,
      attempt,
      generation: node.generation,
      ...(node.failures ? { failures: node.failures } : {}),
      executionId,
      worker: event.worker,
      startedAt: context.now,
    },
    effects,
  );
}

function phase(
  node: RunNodeState,
  event: Extract<NodeEvent, { type: 'phase' }>,
): NodeTransition {
  if (!isAttempt(node, event.attempt)) return stale(node, event.attempt);
  const from = NODE_PHASES.indexOf(node.phase ?? 'pulling');
  const to = NODE_PHASES.indexOf(event.phase);
  if (to <= from)
    return ignored(`phase ${event.phase} is not after ${node.phase}`);
  const effects: NodeEffect[] = [];
  if (from < 2 && to >= 2 && node.executionId) {
    effects.push({ type: 'record-execution', executionId: node.executionId });
  }
  return applied({ ...node, phase: event.phase }, effects);
}

function finished(
  node: RunNodeState,
  event: Extract<NodeEvent, { type: 'finished' }>,
  context: NodeContext,
): NodeTransition {
  if (!isAttempt(node, event.attempt)) return stale(node, event.attempt);
  if (node.phase !== 'running' && node.phase !== 'uploading') {
    return ignored(`the attempt never ran (phase ${node.phase})`);
  }
  const executionId = node.executionId as string;
  const close: NodeEffect = {
    type: 'close-execution',
    executionId,
    status: event.outcome,
    message: event.message,
  };
  if (event.outcome === 'error') {
    const failures = (node.failures ?? 0) + 1;
    if (context.onError === 'retry' && failures < RETRY_ATTEMPTS) {
      return applied(
        {
          ...bare(node),
          status: 'queued',
          generation: node.generation + 1,
          failures,
          executionId,
          message: `retrying (attempt ${node.attempt + 1}) after: ${event.message}`,
        },
        [close, { type: 'enqueue' }],
      );
    }
  }
  return applied(
    {
      ...bare(node),
      status: event.outcome,
      executionId,
      message: event.message,
      startedAt: node.startedAt,
      endedAt: context.now,
    },
    [close, settle(event.outcome, context)],
  );
}

function infraFailure(
  node: RunNodeState,
  event: Extract<NodeEvent, { type: 'infra-failure' }>,
  context: NodeContext,
): NodeTransition {
  if (!isAttempt(node, event.attempt)) return stale(node, event.attempt);
  const message = `infrastructure: ${event.message}`;
  if (!event.retry) return failed(node, message, context);
  const effects: NodeEffect[] = [];
  if (node.executionId && recorded(node)) {
    effects.push({
      type: 'close-execution',
      executionId: node.executionId,
      status: 'error',
      message,
      endReason: { kind: 'infra-error', message: event.message },
    });
  }
  // The queue retries the same job: same generation, no new job.
  return applied(
    {
      ...bare(node),
      status: 'queued',
      ...(node.executionId ? { executionId: node.executionId } : {}),
      message: `${message} — retrying`,
    },
    effects,
  );
}

function failed(
  node: RunNodeState,
  message: string,
  context: NodeContext,
  endReason: EndReason = { kind: 'infra-error', message },
): NodeTransition {
  const effects: NodeEffect[] = [];
  if (node.status === 'started' && node.executionId) {
    if (recorded(node)) {
      effects.push({
        type: 'close-execution',
        executionId: node.executionId,
        status: 'error',
        message,
        endReason,
      });
    }
    effects.push({
      type: 'stop-execution',
      executionId: node.executionId,
      ...worker(node),
    });
  }
  effects.push(settle('error', context));
  return applied(
    {
      ...bare(node),
      status: 'error',
      ...(node.executionId ? { executionId: node.executionId } : {}),
      message,
      ...(node.startedAt ? { startedAt: node.startedAt } : {}),
      endedAt: context.now,
    },
    effects,
  );
}

function stop(
  node: RunNodeState,
  reason: string,
  context: NodeContext,
): NodeTransition {
  if (node.status === 'pending') {
    return applied(
      {
        ...bare(node),
        status: 'skipped',
        message: reason,
        endedAt: context.now,
      },
      [{ type: 'settled', as: 'blocked' }],
    );
  }
  const effects: NodeEffect[] = [];
  if (node.status === 'started' && node.executionId) {
    if (recorded(node)) {
      effects.push({
        type: 'close-execution',
        executionId: node.executionId,
        status: 'stopped',
        message: reason,
        endReason: { kind: 'stopped' },
      });
    }
    effects.push({
      type: 'stop-execution',
      executionId: node.executionId,
      ...worker(node),
    });
  }
  effects.push({ type: 'settled', as: 'blocked' });
  return applied(
    {
      ...bare(node),
      status: 'stopped',
      ...(node.executionId ? { executionId: node.executionId } : {}),
      message: reason,
      ...(node.startedAt ? { startedAt: node.startedAt } : {}),
      endedAt: context.now,
    },
    effects,
  );
}

function settle(
  outcome: 'complete' | 'error' | 'stopped',
  context: NodeContext,
): NodeEffect {
  if (outcome === 'complete') return { type: 'settled', as: 'satisfied' };
  if (outcome === 'stopped') return { type: 'settled', as: 'blocked' };
  // `continue`: successors run anyway; `stop-next`: they are skipped and
  // other branches go on; `stop-all` (and `retry` once used up): the run
  // fails and everything stops.
  if (context.onError === 'continue')
    return { type: 'settled', as: 'satisfied' };
  if (context.onError === 'stop-next')
    return { type: 'settled', as: 'blocked' };
  return { type: 'settled', as: 'fail-run' };
}

/** Whether the attempt's execution record exists (it is made on running). */
function recorded(node: RunNodeState): boolean {
  return node.phase === 'running' || node.phase === 'uploading';
}

function isAttempt(node: RunNodeState, attempt: number): boolean {
  return node.status === 'started' && node.attempt === attempt;
}

/** The fields every state keeps: identity, counters. */
function bare(node: RunNodeState): RunNodeState {
  return {
    name: node.name,
    step: node.step,
    index: node.index,
    status: node.status,
    attempt: node.attempt,
    generation: node.generation,
    ...(node.failures ? { failures: node.failures } : {}),
  };
}

function worker(node: RunNodeState): { worker?: string } {
  return node.worker ? { worker: node.worker } : {};
}

function applied(node: RunNodeState, effects: NodeEffect[]): NodeTransition {
  return { applied: true, node, effects };
}

function ignored(why: string): NodeTransition {
  return { applied: false, why };
}

function stale(node: RunNodeState, attempt: number): NodeTransition {
  return ignored(
    node.status === 'started'
      ? `attempt ${attempt} is stale: attempt ${node.attempt} holds the node`
      : `node "${node.name}" is ${node.status}`,
  );
}
