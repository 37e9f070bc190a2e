import { describe, expect, it } from 'vitest';
import {
  concurrencyOf,
  decideChildEnd,
  decideTaskOutcome,
  onChildErrorOf,
  type ChildSummary,
} from '../../../../src/orchestrator/task/task-policy.js';
import {
  bestOf,
  lossOf,
  taskGoalOf,
} from '../../../../src/orchestrator/task/task-goal.js';

function child(
  status: string,
  metadata: Record<string, unknown> = {},
): ChildSummary {
  return { name: `t#${status}`, status, metadata, parameters: {} };
}

describe('on-child-error', () => {
  it.each([
    [undefined, 'continue-and-error'],
    ['stop-all-and-error', 'stop-all-and-error'],
    ['CONTINUE_AND_COMPLETE', 'continue-and-complete'],
    ['nonsense', 'continue-and-error'],
  ])('%s reads as %s', (value, policy) => {
    expect(onChildErrorOf({ onChildError: value })).toBe(policy);
  });

  it.each([
    ['stop-all-and-error', 'error', true],
    ['stop-all-and-error', 'complete', false],
    ['continue-and-error', 'error', false],
    ['continue-and-complete', 'error', false],
  ] as const)(
    '%s: a child ending %s stops the others: %s',
    (policy, outcome, stops) => {
      const decision = decideChildEnd({ onChildError: policy }, 't#1', {
        outcome,
        metadata: {},
        parameters: {},
      });

      expect(decision.stop !== undefined).toBe(stops);
    },
  );

  it.each([
    ['continue-and-error', 'error'],
    ['continue-and-complete', 'complete'],
    ['stop-all-and-error', 'error'],
  ] as const)('%s: a task with a failed child ends %s', (policy, status) => {
    const outcome = decideTaskOutcome({ onChildError: policy }, [
      child('complete'),
      child('error'),
      child('stopped'),
    ]);

    expect(outcome.status).toBe(status);
    expect(outcome.message).toMatch(
      /1 of 3 children complete, 1 failed, 1 stopped/,
    );
  });
});

describe('stop-condition', () => {
  it('stops the others when a completed child meets it', () => {
    const task = { stopCondition: 'accuracy >= 0.9' };

    expect(
      decideChildEnd(task, 't#2', {
        outcome: 'complete',
        metadata: { accuracy: 0.95 },
        parameters: {},
      }).stop,
    ).toMatch(/met the stop-condition/);
    expect(
      decideChildEnd(task, 't#2', {
        outcome: 'complete',
        metadata: { accuracy: 0.5 },
        parameters: {},
      }).stop,
    ).toBeUndefined();
    expect(
      decideChildEnd(task, 't#2', {
        outcome: 'error',
        metadata: { accuracy: 0.95 },
        parameters: {},
      }).stop,
    ).toBeUndefined();
  });

  it('notes a condition it cannot read instead of stopping', () => {
    const decision = decideChildEnd({ stopCondition: 'accuracy >' }, 't#1', {
      outcome: 'complete',
      metadata: {},
      parameters: {},
    });

    expect(decision).toEqual({
      note: expect.stringMatching(/ended/) as string,
    });
  });

  it('a task stopped by it completes, naming the child', () => {
    const outcome = decideTaskOutcome({ stopCondition: 'loss < 0.1' }, [
      child('complete', { loss: 0.5 }),
      { ...child('complete', { loss: 0.05 }), name: 't#2' },
      child('stopped'),
    ]);

    expect(outcome).toEqual({
      status: 'complete',
      message: expect.stringContaining(
        '"t#2" met the stop-condition',
      ) as string,
    });
  });
});

describe('concurrency', () => {
  it.each([
    [{ type: 'grid_search' }, 12, 12],
    [{ type: 'grid_search', maximumQueuedExecutions: 3 }, 12, 3],
    [{ type: 'grid_search', maximumQueuedExecutions: 30 }, 12, 12],
    [{ type: 'distributed', maximumQueuedExecutions: 1 }, 4, 4],
  ])('%j with %d children: %d at once', (task, count, limit) => {
    expect(concurrencyOf(task, count)).toBe(limit);
  });
});

describe('task goal', () => {
  const reports = [
    { metrics: [{ name: 'accuracy', goal: 'maximize' as const }] },
  ];

  it('is the optimization target, towards its value when given', () => {
    const goal = taskGoalOf(
      { optimizationTargetMetric: 'loss', optimizationTargetValue: 0.5 },
      reports,
    );

    expect(goal).toEqual({ metric: 'loss', goal: 'minimize', target: 0.5 });
    expect(lossOf(goal!, { loss: 0.75 })).toBeCloseTo(0.25);
  });

  it('else the first report metric, with its direction', () => {
    const goal = taskGoalOf({}, reports);

    expect(goal).toEqual({ metric: 'accuracy', goal: 'maximize' });
    expect(
      bestOf(goal!, [
        { name: 'a', metadata: { accuracy: 0.7 } },
        { name: 'b', metadata: { accuracy: 0.9 } },
        { name: 'c', metadata: {} },
      ])?.name,
    ).toBe('b');
  });
});
