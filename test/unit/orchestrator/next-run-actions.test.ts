import { describe, expect, it } from 'vitest';
import type { OnError } from '../../../src/config/config-model.js';
import type { NodeStatus } from '../../../src/model/run.js';
import { nextRunActions } from '../../../src/orchestrator/next-run-actions.js';
import {
  buildRunGraph,
  type RunGraph,
} from '../../../src/orchestrator/run-graph.js';
import { edge, makeConfig, makeNode, makeRun, makeStep } from './fixtures.js';

/** prepare → {train-a, train-b} → evaluate: the diamond BullMQ flows can't express. */
function diamond(onError: Partial<Record<string, OnError>> = {}): RunGraph {
  const names = ['prepare', 'train-a', 'train-b', 'evaluate'];
  const config = makeConfig(
    names.map((name) => makeStep(name)),
    [
      {
        name: 'p',
        reuseExecutions: false,
        parameters: [],
        nodes: names.map((name) => makeNode(name, name, onError[name])),
        edges: [
          edge('prepare.output.data*', 'train-a.input.data'),
          edge('prepare.output.data*', 'train-b.input.data'),
          edge('train-a.output.model', 'evaluate.input.models'),
          edge('train-b.output.model', 'evaluate.input.models'),
        ],
      },
    ],
  );
  const result = buildRunGraph(config, 'p');
  if (!result.ok) throw new Error(result.message);
  return result.graph;
}

function statuses(
  prepare: NodeStatus,
  a: NodeStatus,
  b: NodeStatus,
  evaluate: NodeStatus,
) {
  return makeRun({ prepare, 'train-a': a, 'train-b': b, evaluate });
}

describe('nextRunActions', () => {
  it('starts with the roots only', () => {
    const actions = nextRunActions(
      diamond(),
      statuses('pending', 'pending', 'pending', 'pending'),
    );

    expect(actions).toEqual({
      enqueue: ['prepare'],
      retry: [],
      skip: [],
      stop: [],
    });
  });

  it('fans out once the root completes', () => {
    const actions = nextRunActions(
      diamond(),
      statuses('complete', 'pending', 'pending', 'pending'),
    );

    expect(actions.enqueue).toEqual(['train-a', 'train-b']);
  });

  it('waits for both branches of the diamond before the join', () => {
    const waiting = nextRunActions(
      diamond(),
      statuses('complete', 'complete', 'started', 'pending'),
    );
    const ready = nextRunActions(
      diamond(),
      statuses('complete', 'complete', 'reused', 'pending'),
    );

    expect(waiting.enqueue).toEqual([]);
    expect(ready.enqueue).toEqual(['evaluate']);
  });

  it('is idempotent: the same state gives the same answer', () => {
    const run = statuses('complete', 'pending', 'pending', 'pending');

    expect(nextRunActions(diamond(), run)).toEqual(
      nextRunActions(diamond(), run),
    );
  });

  it('finishes complete when every node succeeded', () => {
    const actions = nextRunActions(
      diamond(),
      statuses('complete', 'complete', 'complete', 'complete'),
    );

    expect(actions.finish).toEqual({ status: 'complete' });
  });

  it.each<[OnError, Partial<ReturnType<typeof nextRunActions>>]>([
    [
      'stop-all',
      {
        stop: [{ node: 'train-b', reason: 'node "train-a" failed' }],
        skip: [{ node: 'evaluate', reason: 'node "train-a" failed' }],
        finish: { status: 'error', reason: 'node "train-a" failed' },
      },
    ],
    [
      'stop-next',
      {
        stop: [],
        skip: [{ node: 'evaluate', reason: 'upstream node "train-a" failed' }],
      },
    ],
    ['continue', { stop: [], skip: [] }],
  ])(
    'on-error %s decides what a failed node does to the rest',
    (onError, expected) => {
      const actions = nextRunActions(
        diamond({ 'train-a': onError }),
        statuses('complete', 'error', 'started', 'pending'),
      );

      expect(actions).toMatchObject(expected);
    },
  );

  it('lets downstream nodes run past a failure marked continue, and the run completes', () => {
    const graph = diamond({ 'train-a': 'continue' });

    const next = nextRunActions(
      graph,
      statuses('complete', 'error', 'complete', 'pending'),
    );
    const end = nextRunActions(
      graph,
      statuses('complete', 'error', 'complete', 'complete'),
    );

    expect(next.enqueue).toEqual(['evaluate']);
    expect(end.finish).toEqual({ status: 'complete' });
  });

  it('ends a stop-next run in error once the rest is done', () => {
    const actions = nextRunActions(
      diamond({ 'train-a': 'stop-next' }),
      statuses('complete', 'error', 'complete', 'skipped'),
    );

    expect(actions.finish).toEqual({
      status: 'error',
      reason: '"train-a" failed',
    });
  });

  it('retries a node with on-error retry once, then stops everything', () => {
    const graph = diamond({ prepare: 'retry' });
    const first = makeRun({
      prepare: 'error',
      'train-a': 'pending',
      'train-b': 'pending',
      evaluate: 'pending',
    });
    const second = makeRun({
      prepare: 'error',
      'train-a': 'pending',
      'train-b': 'pending',
      evaluate: 'pending',
    });
    second.nodes[0]!.attempt = 2;

    expect(nextRunActions(graph, first).retry).toEqual(['prepare']);
    expect(nextRunActions(graph, second).finish?.status).toBe('error');
  });

  it('winds a cancelled run down: stops active nodes and skips pending ones', () => {
    const run = statuses('complete', 'started', 'queued', 'pending');
    run.status = 'cancelled';
    run.reason = 'cancelled — superseded by abc1234';

    const actions = nextRunActions(diamond(), run);

    expect(actions.stop.map((item) => item.node)).toEqual([
      'train-a',
      'train-b',
    ]);
    expect(actions.skip).toEqual([
      { node: 'evaluate', reason: 'cancelled — superseded by abc1234' },
    ]);
    expect(actions.enqueue).toEqual([]);
  });

  it('does nothing while the run waits for approval', () => {
    const run = statuses('pending', 'pending', 'pending', 'pending');
    run.status = 'waiting-approval';

    expect(nextRunActions(diamond(), run)).toEqual({
      enqueue: [],
      retry: [],
      skip: [],
      stop: [],
    });
  });
});

describe('buildRunGraph', () => {
  it('orders nodes topologically whatever the declaration order', () => {
    const config = makeConfig(
      [makeStep('a'), makeStep('b')],
      [
        {
          name: 'p',
          reuseExecutions: false,
          parameters: [],
          nodes: [makeNode('second', 'b'), makeNode('first', 'a')],
          edges: [edge('first.outputs.x', 'second.input.x')],
        },
      ],
    );

    const result = buildRunGraph(config, 'p');

    expect(result.ok && result.graph.nodes.map((node) => node.name)).toEqual([
      'first',
      'second',
    ]);
    expect(result.ok && result.graph.nodes[1]?.incoming[0]?.source.type).toBe(
      'output',
    );
  });

  it('refuses a cycle, naming its nodes', () => {
    const config = makeConfig(
      [makeStep('a')],
      [
        {
          name: 'p',
          reuseExecutions: false,
          parameters: [],
          nodes: [makeNode('x', 'a'), makeNode('y', 'a')],
          edges: [
            edge('x.output.o', 'y.input.i'),
            edge('y.output.o', 'x.input.i'),
          ],
        },
      ],
    );

    expect(buildRunGraph(config, 'p')).toEqual({
      ok: false,
      message:
        'pipeline "p" can\'t run: its edges form a cycle through "x" → "y"',
    });
  });

  it('runs a single step as a one-node graph and names what exists for a typo', () => {
    const config = makeConfig([makeStep('train')], []);

    expect(buildRunGraph(config, 'train').ok).toBe(true);
    expect(buildRunGraph(config, 'trian')).toEqual({
      ok: false,
      message: 'no pipeline or step named "trian"; the file has step "train"',
    });
  });
});
