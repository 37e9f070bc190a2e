import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/load-config.js';
import type { RunNodeState } from '../../../../src/model/run.js';
import { nodeTransition } from '../../../../src/orchestrator/node-machine.js';
import { buildRunGraph } from '../../../../src/orchestrator/run-graph.js';

const context = { runId: 'r1', now: '2026-12-06T10:00:00.000Z' };

const queued: RunNodeState = {
  name: 'sweep',
  step: 'train',
  index: 0,
  status: 'queued',
  attempt: 0,
  generation: 1,
};

describe('task node events', () => {
  it('expand: queued → started, no execution of its own', () => {
    const result = nodeTransition(
      queued,
      { type: 'expand', worker: 'w1', generation: 1 },
      context,
    );

    expect(result).toEqual({
      applied: true,
      node: {
        ...queued,
        status: 'started',
        phase: 'running',
        attempt: 1,
        worker: 'w1',
        startedAt: context.now,
      },
      effects: [],
    });
  });

  it('expand refuses a stale job and a node not queued', () => {
    expect(
      nodeTransition(
        queued,
        { type: 'expand', worker: 'w1', generation: 2 },
        context,
      ).applied,
    ).toBe(false);
    expect(
      nodeTransition(
        { ...queued, status: 'pending' },
        { type: 'expand', worker: 'w1', generation: 1 },
        context,
      ).applied,
    ).toBe(false);
  });

  it.each([
    ['complete', undefined, 'satisfied'],
    ['error', 'stop-all', 'fail-run'],
    ['error', 'stop-next', 'blocked'],
    ['error', 'continue', 'satisfied'],
  ] as const)(
    'settle-task %s with on-error %s settles %s',
    (outcome, onError, as) => {
      const started = nodeTransition(
        queued,
        { type: 'expand', worker: 'w1', generation: 1 },
        context,
      );
      if (!started.applied) throw new Error('not started');

      const result = nodeTransition(
        started.node,
        { type: 'settle-task', outcome, message: '3 of 3 children complete' },
        { ...context, ...(onError ? { onError } : {}) },
      );

      expect(result).toMatchObject({
        applied: true,
        node: {
          status: outcome,
          message: '3 of 3 children complete',
          endedAt: context.now,
        },
        effects: [{ type: 'settled', as }],
      });
    },
  );

  it('settle-task never ends a node that has an execution', () => {
    const running = {
      ...queued,
      status: 'started' as const,
      executionId: 'r1-0-1',
      attempt: 1,
    };

    expect(
      nodeTransition(
        running,
        { type: 'settle-task', outcome: 'complete', message: '' },
        context,
      ).applied,
    ).toBe(false);
  });
});

describe('run graph of tasks', () => {
  const text = `
- step: {name: train, image: busybox, command: "true", parameters: [{name: x, type: integer}]}
- task: {name: sweep, step: train, parameters: [{name: x, style: multiple, rules: {items: [1, 2]}}]}
- pipeline:
    name: p
    nodes:
      - {name: blueprint, type: task, task: sweep}
      - {name: plain, type: task, step: train}
    edges:
      - [blueprint.output.*, plain.input.x]
`;

  it('a task name runs the task: one task node', () => {
    const built = buildRunGraph(
      loadConfig(text, { file: 'k.yaml' }).config,
      'sweep',
    );

    expect(built.ok && built.graph.kind).toBe('task');
    expect(built.ok && built.graph.nodes[0]).toMatchObject({
      name: 'sweep',
      type: 'task',
      step: 'train',
      task: { name: 'sweep', type: 'grid_search' },
    });
  });

  it('task nodes carry their blueprint, or a grid over what they receive', () => {
    const built = buildRunGraph(
      loadConfig(text, { file: 'k.yaml' }).config,
      'p',
    );
    if (!built.ok) throw new Error(built.message);

    expect(built.graph.byName.get('blueprint')).toMatchObject({
      step: 'train',
      task: { name: 'sweep' },
    });
    expect(built.graph.byName.get('plain')?.task).toEqual({
      name: 'plain',
      step: 'train',
      type: 'grid_search',
      parameters: [],
      reuseChildren: false,
    });
  });

  it('refuses a node named like a child of a task node', () => {
    const clash = `
- step: {name: train, image: busybox, command: "true"}
- task: {name: sweep, step: train, parameters: [{name: x, style: multiple, rules: {items: [1, 2]}}]}
- pipeline:
    name: p
    nodes:
      - {name: blueprint, type: task, task: sweep}
      - {name: "blueprint#1", type: execution, step: train}
    edges:
      - ["blueprint.output.*", "blueprint#1.input.x"]
`;

    const built = buildRunGraph(
      loadConfig(clash, { file: 'k.yaml' }).config,
      'p',
    );

    expect(built).toEqual({
      ok: false,
      message: expect.stringContaining(
        'child of task node "blueprint"',
      ) as string,
    });
  });
});
