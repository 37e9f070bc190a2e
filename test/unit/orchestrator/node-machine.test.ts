import { describe, expect, it } from 'vitest';
import type { NodePhase, RunNodeState } from '../../../src/model/run.js';
import {
  executionIdFor,
  nodeTransition,
  RETRY_ATTEMPTS,
  type NodeEvent,
} from '../../../src/orchestrator/node-machine.js';

const context = { runId: 'r1', now: '2026-12-06T10:00:00.000Z' };

function state(
  status: RunNodeState['status'],
  phase?: NodePhase,
): RunNodeState {
  const started = status === 'started';
  return {
    name: 'train',
    step: 'train',
    index: 2,
    status,
    attempt:
      started || ['complete', 'error', 'stopped', 'reused'].includes(status)
        ? 1
        : 0,
    generation: status === 'pending' || status === 'skipped' ? 0 : 1,
    ...(phase ? { phase } : {}),
    ...(started
      ? { executionId: 'r1-2-1', worker: 'w1', startedAt: context.now }
      : {}),
  };
}

const STATES: Record<string, RunNodeState> = {
  pending: state('pending'),
  queued: state('queued'),
  'started/pulling': state('started', 'pulling'),
  'started/inputs': state('started', 'inputs'),
  'started/running': state('started', 'running'),
  'started/uploading': state('started', 'uploading'),
  complete: state('complete'),
  error: state('error'),
  stopped: state('stopped'),
  skipped: state('skipped'),
  reused: state('reused'),
};

const EVENTS: Record<string, NodeEvent> = {
  ready: { type: 'ready' },
  blocked: { type: 'blocked', reason: 'upstream node "a" was skipped' },
  claim: { type: 'claim', worker: 'w2', generation: 1, phase: 'pulling' },
  'phase inputs': { type: 'phase', attempt: 1, phase: 'inputs' },
  'phase running': { type: 'phase', attempt: 1, phase: 'running' },
  'phase uploading': { type: 'phase', attempt: 1, phase: 'uploading' },
  reused: { type: 'reused', attempt: 1, executionId: 'old', message: 'reused' },
  'finished complete': {
    type: 'finished',
    attempt: 1,
    outcome: 'complete',
    message: 'exited 0',
  },
  'finished error': {
    type: 'finished',
    attempt: 1,
    outcome: 'error',
    message: 'failed: exit code 1',
  },
  'finished stopped': {
    type: 'finished',
    attempt: 1,
    outcome: 'stopped',
    message: 'stopped',
  },
  failed: { type: 'failed', attempt: 1, message: 'bad parameter' },
  'infra retry': {
    type: 'infra-failure',
    attempt: 1,
    message: 'engine gone',
    retry: true,
  },
  'infra final': {
    type: 'infra-failure',
    attempt: 1,
    message: 'engine gone',
    retry: false,
  },
  lost: { type: 'lost', generation: 1, message: 'stalled' },
  timeout: { type: 'timeout', message: 'deadline' },
  stop: { type: 'stop', reason: 'cancelled by alice' },
};

// Every state × every event: the status it leads to, or '·' when the
// event is ignored (stale, not applicable, or the state is terminal).
// Read a row as "a node in this state, told this event, becomes…".
const TABLE: Record<string, string[]> = {
  //                   ready    blocked  claim     ph-in    ph-run   ph-up    reused  fin-ok    fin-err  fin-stop  failed  infra-r  infra-f  lost     timeout  stop
  pending: [
    'queued',
    'skipped',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    'error',
    'skipped',
  ],
  queued: [
    '·',
    '·',
    'started',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    'error',
    'error',
    'stopped',
  ],
  'started/pulling': [
    '·',
    '·',
    'started',
    'started',
    'started',
    'started',
    'reused',
    '·',
    '·',
    '·',
    'error',
    'queued',
    'error',
    'error',
    'error',
    'stopped',
  ],
  'started/inputs': [
    '·',
    '·',
    'started',
    '·',
    'started',
    'started',
    'reused',
    '·',
    '·',
    '·',
    'error',
    'queued',
    'error',
    'error',
    'error',
    'stopped',
  ],
  'started/running': [
    '·',
    '·',
    'started',
    '·',
    '·',
    'started',
    '·',
    'complete',
    'error',
    'stopped',
    'error',
    'queued',
    'error',
    'error',
    'error',
    'stopped',
  ],
  'started/uploading': [
    '·',
    '·',
    'started',
    '·',
    '·',
    '·',
    '·',
    'complete',
    'error',
    'stopped',
    'error',
    'queued',
    'error',
    'error',
    'error',
    'stopped',
  ],
  complete: [
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
  ],
  error: [
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
  ],
  stopped: [
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
  ],
  skipped: [
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
  ],
  reused: [
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
    '·',
  ],
};

const cases = Object.entries(TABLE).flatMap(([from, row]) =>
  Object.keys(EVENTS).map(
    (event, column) => [from, event, row[column] as string] as const,
  ),
);

describe('nodeTransition: every state × every event', () => {
  it('has a row per state and a column per event', () => {
    expect(Object.keys(TABLE)).toEqual(Object.keys(STATES));
    for (const row of Object.values(TABLE))
      expect(row).toHaveLength(Object.keys(EVENTS).length);
  });

  it.each(cases)('%s + %s → %s', (from, event, expected) => {
    const result = nodeTransition(
      STATES[from] as RunNodeState,
      EVENTS[event] as NodeEvent,
      context,
    );

    if (expected === '·') {
      expect(result.applied).toBe(false);
    } else {
      expect(result.applied && result.node.status).toBe(expected);
    }
  });
});

describe('nodeTransition: what each transition carries', () => {
  it('queues with a new generation and asks for a job', () => {
    const result = nodeTransition(
      STATES.pending as RunNodeState,
      { type: 'ready' },
      context,
    );

    expect(result).toEqual({
      applied: true,
      node: {
        name: 'train',
        step: 'train',
        index: 2,
        status: 'queued',
        attempt: 0,
        generation: 1,
      },
      effects: [{ type: 'enqueue' }],
    });
  });

  it('a claim is a new attempt with its own execution id, starting the run', () => {
    const result = nodeTransition(
      STATES.queued as RunNodeState,
      { type: 'claim', worker: 'w2', generation: 1, phase: 'running' },
      context,
    );

    expect(result.applied && result.node).toMatchObject({
      status: 'started',
      phase: 'running',
      attempt: 1,
      executionId: executionIdFor('r1', 2, 1),
      worker: 'w2',
    });
    expect(result.applied && result.effects).toEqual([
      { type: 'run-started' },
      { type: 'record-execution', executionId: 'r1-2-1' },
    ]);
  });

  it('a claim by a job of an older queueing is stale', () => {
    const result = nodeTransition(
      STATES.queued as RunNodeState,
      { type: 'claim', worker: 'w2', generation: 0, phase: 'pulling' },
      context,
    );

    expect(result.applied).toBe(false);
  });

  it('a claim of a started node takes it over: the lost attempt is closed and stopped', () => {
    const result = nodeTransition(
      STATES['started/running'] as RunNodeState,
      { type: 'claim', worker: 'w2', generation: 1, phase: 'pulling' },
      context,
    );

    expect(result.applied && result.node.attempt).toBe(2);
    expect(result.applied && result.effects).toEqual([
      { type: 'run-started' },
      {
        type: 'close-execution',
        executionId: 'r1-2-1',
        status: 'error',
        message: 'infrastructure: worker w1 was lost; attempt 2 takes over',
        endReason: {
          kind: 'infra-error',
          message: 'worker w1 was lost; attempt 2 takes over',
        },
      },
      { type: 'stop-execution', executionId: 'r1-2-1', worker: 'w1' },
    ]);
  });

  it.each([
    ['phase', { type: 'phase', attempt: 7, phase: 'running' }],
    [
      'finished',
      {
        type: 'finished',
        attempt: 7,
        outcome: 'complete',
        message: 'exited 0',
      },
    ],
    [
      'infra-failure',
      { type: 'infra-failure', attempt: 7, message: 'x', retry: true },
    ],
  ] as const)(
    'a %s of another attempt is stale (a frozen worker can write nothing)',
    (_name, event) => {
      const result = nodeTransition(
        STATES['started/running'] as RunNodeState,
        event,
        context,
      );

      expect(result).toEqual({
        applied: false,
        why: 'attempt 7 is stale: attempt 1 holds the node',
      });
    },
  );

  it('phases only move forward; entering running records the execution', () => {
    const forward = nodeTransition(
      STATES['started/inputs'] as RunNodeState,
      { type: 'phase', attempt: 1, phase: 'running' },
      context,
    );
    const backward = nodeTransition(
      STATES['started/uploading'] as RunNodeState,
      { type: 'phase', attempt: 1, phase: 'running' },
      context,
    );

    expect(forward.applied && forward.effects).toEqual([
      { type: 'record-execution', executionId: 'r1-2-1' },
    ]);
    expect(backward.applied).toBe(false);
  });

  it.each([
    ['stop-all', 'fail-run'],
    ['continue', 'satisfied'],
    ['stop-next', 'blocked'],
  ] as const)('an error with on-error %s settles as %s', (onError, as) => {
    const result = nodeTransition(
      STATES['started/running'] as RunNodeState,
      EVENTS['finished error'] as NodeEvent,
      { ...context, onError },
    );

    expect(result.applied && result.node.status).toBe('error');
    expect(result.applied && result.effects).toContainEqual({
      type: 'settled',
      as,
    });
  });

  it(`on-error retry queues the node again until ${RETRY_ATTEMPTS} attempts failed`, () => {
    const first = nodeTransition(
      STATES['started/running'] as RunNodeState,
      EVENTS['finished error'] as NodeEvent,
      { ...context, onError: 'retry' },
    );
    const second = nodeTransition(
      {
        ...(STATES['started/running'] as RunNodeState),
        failures: RETRY_ATTEMPTS - 1,
      },
      EVENTS['finished error'] as NodeEvent,
      { ...context, onError: 'retry' },
    );

    expect(first.applied && first.node).toMatchObject({
      status: 'queued',
      generation: 2,
      failures: 1,
    });
    expect(first.applied && first.effects).toContainEqual({ type: 'enqueue' });
    expect(second.applied && second.node.status).toBe('error');
  });

  it('stopping a started node closes its execution and tells its worker', () => {
    const result = nodeTransition(
      STATES['started/uploading'] as RunNodeState,
      EVENTS.stop as NodeEvent,
      context,
    );

    expect(result.applied && result.node).toMatchObject({
      status: 'stopped',
      message: 'cancelled by alice',
    });
    expect(result.applied && result.effects).toEqual([
      {
        type: 'close-execution',
        executionId: 'r1-2-1',
        status: 'stopped',
        message: 'cancelled by alice',
        endReason: { kind: 'stopped' },
      },
      { type: 'stop-execution', executionId: 'r1-2-1', worker: 'w1' },
      { type: 'settled', as: 'blocked' },
    ]);
  });

  it('stopping a node still pulling its image has no record to close', () => {
    const result = nodeTransition(
      STATES['started/pulling'] as RunNodeState,
      EVENTS.stop as NodeEvent,
      context,
    );

    expect(
      result.applied && result.effects.map((effect) => effect.type),
    ).toEqual(['stop-execution', 'settled']);
  });

  it('an infrastructure failure with a retry goes back to queued, same generation (the queue retries the job)', () => {
    const result = nodeTransition(
      STATES['started/running'] as RunNodeState,
      EVENTS['infra retry'] as NodeEvent,
      context,
    );

    expect(result.applied && result.node).toMatchObject({
      status: 'queued',
      generation: 1,
      attempt: 1,
      message: 'infrastructure: engine gone — retrying',
    });
    expect(
      result.applied &&
        result.effects.some((effect) => effect.type === 'enqueue'),
    ).toBe(false);
  });
});
