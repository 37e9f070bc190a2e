import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../src/config/config-model.js';
import {
  ancestorsOf,
  findCycles,
  findUnconnectedNodes,
  PipelineCycleError,
  topologicalOrder,
  upstreamOf,
} from '../../../src/config/pipeline-graph.js';

function makePipeline(nodes: string[], edges: [string, string][]): Pipeline {
  return {
    name: 'p',
    nodes: nodes.map((name) => ({
      name,
      type: 'execution',
      step: 'train',
      actions: [],
      onError: 'stop-all',
      edgeMergeMode: 'replace',
    })),
    edges: edges.map(([source, target]) => ({
      source: { node: source, type: 'output', key: '*' },
      target: { node: target, type: 'input', key: 'x' },
    })),
    parameters: [],
    reuseExecutions: false,
  };
}

describe('topologicalOrder', () => {
  it('puts every node after its upstream nodes, the earliest ready node first', () => {
    const pipeline = makePipeline(
      ['report', 'train', 'prep', 'other'],
      [
        ['prep', 'train'],
        ['train', 'report'],
      ],
    );
    expect(topologicalOrder(pipeline)).toEqual([
      'prep',
      'train',
      'report',
      'other',
    ]);
  });

  it('throws a typed error naming the cycle', () => {
    const pipeline = makePipeline(
      ['a', 'b', 'c'],
      [
        ['a', 'b'],
        ['b', 'a'],
        ['b', 'c'],
      ],
    );
    expect(() => topologicalOrder(pipeline)).toThrow(PipelineCycleError);
    try {
      topologicalOrder(pipeline);
    } catch (error) {
      expect((error as PipelineCycleError).code).toBe('PIPELINE_CYCLE');
      expect((error as PipelineCycleError).nodes).toEqual(['a', 'b']);
    }
  });

  it('orders any acyclic graph consistently with its edges (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.nat(11), fc.nat(11))),
        (count, pairs) => {
          const nodes = Array.from({ length: count }, (_, i) => `n${i}`);
          // Edges only from lower to higher index: acyclic by construction.
          const edges = pairs
            .filter(([a, b]) => a < b && b < count)
            .map(([a, b]): [string, string] => [`n${a}`, `n${b}`]);
          const order = topologicalOrder(makePipeline(nodes, edges));
          expect([...order].sort()).toEqual([...nodes].sort());
          for (const [source, target] of edges) {
            expect(order.indexOf(source)).toBeLessThan(order.indexOf(target));
          }
        },
      ),
    );
  });
});

describe('upstreamOf and ancestorsOf', () => {
  const pipeline = makePipeline(
    ['a', 'b', 'c', 'd'],
    [
      ['b', 'c'],
      ['a', 'c'],
      ['a', 'c'],
      ['c', 'd'],
      ['ghost', 'd'],
    ],
  );

  it('lists direct upstream nodes once, in file order, ignoring unknown nodes', () => {
    expect(upstreamOf(pipeline, 'c')).toEqual(['a', 'b']);
    expect(upstreamOf(pipeline, 'd')).toEqual(['c']);
    expect(upstreamOf(pipeline, 'a')).toEqual([]);
  });

  it('lists every ancestor', () => {
    expect(ancestorsOf(pipeline, 'd')).toEqual(['a', 'b', 'c']);
  });
});

describe('findCycles and findUnconnectedNodes', () => {
  it('finds self-loops and separate cycles', () => {
    const pipeline = makePipeline(
      ['a', 'b', 'c', 'd', 'e'],
      [
        ['a', 'a'],
        ['b', 'c'],
        ['c', 'b'],
        ['d', 'e'],
      ],
    );
    expect(findCycles(pipeline)).toEqual([['a'], ['b', 'c']]);
  });

  it('handles a 5,000-node chain without recursion', () => {
    const nodes = Array.from({ length: 5000 }, (_, i) => `n${i}`);
    const edges = nodes
      .slice(1)
      .map((name, i): [string, string] => [`n${i}`, name]);
    edges.push(['n4999', 'n0']);
    expect(findCycles(makePipeline(nodes, edges))[0]).toHaveLength(5000);
  });

  it('leaves deployment nodes out of the unconnected ones', () => {
    const pipeline = makePipeline(['a', 'b', 'deploy'], [['a', 'b']]);
    const deploy = pipeline.nodes[2];
    if (deploy !== undefined) deploy.type = 'deployment';
    expect(findUnconnectedNodes(pipeline)).toEqual([]);
  });

  it('reports nodes without edges only when there are several nodes', () => {
    expect(findUnconnectedNodes(makePipeline(['a'], []))).toEqual([]);
    expect(
      findUnconnectedNodes(makePipeline(['a', 'b', 'c'], [['a', 'b']])),
    ).toEqual(['c']);
  });
});
