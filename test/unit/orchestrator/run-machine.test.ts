import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../../src/model/run.js';
import {
  RUN_START,
  runTransition,
  type RunMachineEvent,
} from '../../../src/orchestrator/run-machine.js';

const now = '2026-12-06T10:00:00.000Z';

const EVENTS: Record<string, RunMachineEvent> = {
  'node-started': { type: 'node-started' },
  'drained ok': { type: 'drained', failed: [], stopped: 0 },
  'drained failed': { type: 'drained', failed: ['train'], stopped: 0 },
  'drained stopped': { type: 'drained', failed: [], stopped: 1 },
  cancel: { type: 'cancel', reason: 'cancelled by alice' },
  superseded: {
    type: 'superseded',
    reason: 'cancelled — superseded by abc1234',
    by: 'r2',
  },
  fail: { type: 'fail', reason: 'node "train" failed' },
  'action stop': {
    type: 'action',
    status: 'stopped',
    reason: 'node "x" stopped the pipeline',
  },
  'action error': {
    type: 'action',
    status: 'error',
    reason: 'node "x" failed the pipeline',
  },
  'action hold': {
    type: 'action',
    status: 'waiting-approval',
    reason: 'node "x" asks for approval',
  },
  approve: { type: 'approve', approver: 'alice' },
};

// Every status × every event: the status it leads to, or '·' (ignored).
const TABLE: Record<RunStatus, string[]> = {
  //                 started   ok          failed   stopped    cancel       superseded   fail     act-stop   act-error  act-hold             approve
  created: [
    'running',
    'complete',
    'error',
    'stopped',
    'cancelled',
    'cancelled',
    'error',
    'stopped',
    'error',
    'waiting-approval',
    '·',
  ],
  'waiting-approval': [
    '·',
    'complete',
    'error',
    'stopped',
    'cancelled',
    'cancelled',
    'error',
    'stopped',
    'error',
    '·',
    'queued',
  ],
  queued: [
    'running',
    'complete',
    'error',
    'stopped',
    'cancelled',
    'cancelled',
    'error',
    'stopped',
    'error',
    'waiting-approval',
    '·',
  ],
  running: [
    '·',
    'complete',
    'error',
    'stopped',
    'cancelled',
    'cancelled',
    'error',
    'stopped',
    'error',
    'waiting-approval',
    '·',
  ],
  complete: ['·', '·', '·', '·', '·', '·', '·', '·', '·', '·', '·'],
  error: ['·', '·', '·', '·', '·', '·', '·', '·', '·', '·', '·'],
  stopped: ['·', '·', '·', '·', '·', '·', '·', '·', '·', '·', '·'],
  cancelled: ['·', '·', '·', '·', '·', '·', '·', '·', '·', '·', '·'],
};

const cases = Object.entries(TABLE).flatMap(([from, row]) =>
  Object.keys(EVENTS).map(
    (event, column) =>
      [from as RunStatus, event, row[column] as string] as const,
  ),
);

describe('runTransition: every status × every event', () => {
  it.each(cases)('%s + %s → %s', (from, event, expected) => {
    const result = runTransition(
      { status: from },
      EVENTS[event] as RunMachineEvent,
      now,
    );

    if (expected === '·') expect(result.applied).toBe(false);
    else expect(result.applied && result.run.status).toBe(expected);
  });
});

describe('runTransition: what each transition carries', () => {
  it('a cancel keeps its reason and winds the nodes down', () => {
    const result = runTransition(
      { status: 'running' },
      EVENTS.cancel as RunMachineEvent,
      now,
    );

    expect(result).toEqual({
      applied: true,
      run: { status: 'cancelled', reason: 'cancelled by alice', endedAt: now },
      effects: [{ type: 'wind-down', reason: 'cancelled by alice' }],
    });
  });

  it('a superseded run names its successor', () => {
    const result = runTransition(
      { status: 'queued' },
      EVENTS.superseded as RunMachineEvent,
      now,
    );

    expect(result.applied && result.run.supersededBy).toBe('r2');
  });

  it('the end names the nodes that failed', () => {
    const result = runTransition(
      { status: 'running' },
      { type: 'drained', failed: ['train-a', 'train-b'], stopped: 0 },
      now,
    );

    expect(result.applied && result.run.reason).toBe(
      '"train-a", "train-b" failed',
    );
  });

  it('an approval of a run that never started queues it; of a held running run, resumes it', () => {
    const fresh = runTransition(
      { status: 'waiting-approval' },
      EVENTS.approve as RunMachineEvent,
      now,
    );
    const held = runTransition(
      { status: 'waiting-approval', startedAt: '2026-12-06T09:00:00.000Z' },
      EVENTS.approve as RunMachineEvent,
      now,
    );

    expect(fresh.applied && fresh.run.status).toBe('queued');
    expect(held.applied && held.run.status).toBe('running');
    expect(fresh.applied && fresh.effects).toEqual([{ type: 'release-ready' }]);
    expect(fresh.applied && fresh.run.reason).toBe(
      `approved by @alice at ${now}`,
    );
  });

  it('a first claim moves exactly the runs the machine starts', () => {
    expect(RUN_START).toEqual({ from: ['created', 'queued'], to: 'running' });
  });
});
