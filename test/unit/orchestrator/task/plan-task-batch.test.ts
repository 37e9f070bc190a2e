import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/load-config.js';
import {
  buildRunGraph,
  type RunGraph,
} from '../../../../src/orchestrator/run-graph.js';
import {
  childReleases,
  planTaskBatch,
} from '../../../../src/orchestrator/task/plan-task-batch.js';
import {
  childIndex,
  joinIndex,
  parseTaskNodeName,
  taskNodeNameOf,
} from '../../../../src/orchestrator/task/task-children.js';

const CONFIG = `
- step: {name: s, image: busybox, command: "true"}
- task:
    name: sweep
    step: s
    parameters: [{name: x, style: multiple, rules: {items: [1]}}]
- pipeline:
    name: p
    nodes:
      - {name: a, type: task, task: sweep}
      - {name: b, type: execution, step: s}
      - {name: c, type: task, step: s}
    edges:
      - [a.output.*, b.input.x]
      - [b.output.*, c.input.x]
`;

function graph(): RunGraph {
  const loaded = loadConfig(CONFIG, { file: 'kiln.yaml' });
  const built = buildRunGraph(loaded.config, 'p');
  if (!built.ok) throw new Error(built.message);
  return built.graph;
}

const context = { runId: 'r1', now: '2026-12-06T10:00:00.000Z' };

describe('task children', () => {
  it('names children and joins, and finds them only for task nodes', () => {
    const g = graph();

    expect(parseTaskNodeName('a#12')).toEqual({
      task: 'a',
      kind: 'child',
      number: 12,
    });
    expect(parseTaskNodeName('a@2')).toEqual({
      task: 'a',
      kind: 'join',
      number: 2,
    });
    expect(parseTaskNodeName('a#0')).toBeNull();
    expect(taskNodeNameOf(g, 'a#1')).not.toBeNull();
    expect(taskNodeNameOf(g, 'b#1')).toBeNull();
  });

  it('gives every child and join its own index after the graph', () => {
    const g = graph();
    const indexes = [
      ...g.nodes.map((node) => node.index),
      ...[1, 2, 3].flatMap((n) => [
        childIndex(g, 'a', n),
        childIndex(g, 'c', n),
      ]),
      ...[1, 2].flatMap((n) => [joinIndex(g, 'a', n), joinIndex(g, 'c', n)]),
    ];

    expect(new Set(indexes).size).toBe(indexes.length);
    expect(Math.min(...indexes.slice(3))).toBe(3);
  });

  it('queues the first L children and chains the rest', () => {
    const plan = planTaskBatch({
      graph: graph(),
      task: 'a',
      step: 's',
      batch: 1,
      first: 1,
      sets: [{ x: 1 }, { x: 2 }, { x: 3 }, { x: 4 }, { x: 5 }],
      concurrency: 2,
      context,
    });

    expect(plan.children.map((child) => child.state.status)).toEqual([
      'queued',
      'queued',
      'pending',
      'pending',
      'pending',
    ]);
    expect(plan.children.map((child) => child.spec.releases)).toEqual([
      3,
      4,
      5,
      undefined,
      undefined,
    ]);
    expect(plan.children[2]?.spec).toEqual({
      task: 'a',
      number: 3,
      batch: 1,
      batchSize: 5,
      releases: 5,
      parameters: { x: 3 },
    });
    expect(plan.join).toEqual({
      state: expect.objectContaining({
        name: 'a@1',
        status: 'pending',
      }) as unknown,
      waits: 5,
    });
  });

  it("releases a child's chain successor and counts down its join", () => {
    const g = graph();

    const releases = childReleases(
      g,
      's',
      {
        task: 'a',
        number: 1,
        batch: 1,
        batchSize: 5,
        releases: 3,
        parameters: {},
      },
      context,
    );

    expect(
      releases.map((item) => [item.name, item.waits, item.queued.status]),
    ).toEqual([
      ['a#3', 1, 'queued'],
      ['a@1', 5, 'queued'],
    ]);
  });
});
