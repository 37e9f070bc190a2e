import { describe, expect, it } from 'vitest';
import type { MetricsEvent } from '../../../src/model/execution.js';
import type { RunRecord } from '../../../src/model/run.js';
import { loadMetricCurves } from '../../../src/control/load-metric-curves.js';
import { renderCurvesSvg } from '../../../src/control/render-curves-svg.js';

function run(id: string, nodes: string[]): RunRecord {
  return {
    id,
    counter: 1,
    repository: 'acme/models',
    commit: 'a'.repeat(40),
    kind: 'pipeline',
    name: 'train-evaluate',
    status: 'complete',
    parameters: {},
    nodes: nodes.map((name, index) => ({
      name,
      step: name,
      index,
      status: 'complete',
      attempt: 1,
      generation: 1,
      executionId: `${id}-${name}`,
    })),
    createdAt: '2026-12-01T00:00:00.000Z',
  };
}

function events(values: Array<Record<string, number>>): MetricsEvent[] {
  return values.map((item, index) => ({
    time: new Date(Date.UTC(2026, 11, 1, 0, 0, index)).toISOString(),
    values: item,
  }));
}

const stored: Record<string, MetricsEvent[]> = {
  'head-train': events([
    { epoch: 1, loss: 0.9, accuracy: 0.5 },
    { epoch: 2, loss: 0.5, accuracy: 0.7 },
    { epoch: 3, loss: 0.3, accuracy: 0.8 },
  ]),
  'head-evaluate': events([{ accuracy: 0.81, f1: 0.8 }]),
  'base-train': events([
    { epoch: 1, loss: 1.0, accuracy: 0.4 },
    { epoch: 2, loss: 0.7, accuracy: 0.6 },
  ]),
};
const executions = {
  readMetrics: async (id: string) => stored[id] ?? [],
};

describe('loadMetricCurves', () => {
  it('takes the metrics printed more than once, reported ones first, with the base run beside them', async () => {
    const curves = await loadMetricCurves({
      executions,
      run: run('head', ['train', 'evaluate']),
      base: run('base', ['train', 'evaluate']),
      reported: ['accuracy', 'f1'],
    });

    expect(curves).toEqual([
      {
        metric: 'accuracy',
        node: 'train',
        xLabel: 'epoch',
        head: [
          [1, 0.5],
          [2, 0.7],
          [3, 0.8],
        ],
        base: [
          [1, 0.4],
          [2, 0.6],
        ],
      },
      {
        metric: 'loss',
        node: 'train',
        xLabel: 'epoch',
        head: [
          [1, 0.9],
          [2, 0.5],
          [3, 0.3],
        ],
        base: [
          [1, 1.0],
          [2, 0.7],
        ],
      },
    ]);
  });

  it('is empty when every metric was printed once', async () => {
    const curves = await loadMetricCurves({
      executions,
      run: run('head', ['evaluate']),
    });

    expect(curves).toEqual([]);
  });
});

describe('renderCurvesSvg', () => {
  it('draws the PR as a solid line and the base as a dashed one, escaping every text', () => {
    const svg = renderCurvesSvg({
      curves: [
        {
          metric: '<script>alert(1)</script>',
          node: 'train\u0007',
          xLabel: 'epoch',
          head: [
            [1, 0.5],
            [2, 0.7],
          ],
          base: [
            [1, 0.4],
            [2, 0.6],
          ],
        },
      ],
      headLabel: 'PR #3 @ abc1234 & co',
      baseLabel: 'main @ def5678',
    });

    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(
      true,
    );
    expect(svg).not.toContain('<script');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt; · train<');
    expect(svg).toContain('PR #3 @ abc1234 &amp; co');
    expect(svg).not.toContain('\u0007');
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    // Well formed enough for a strict XML reader: no attribute twice.
    for (const tag of svg.match(/<[a-z]+ [^>]*>/g) ?? []) {
      const names = [...tag.matchAll(/ ([a-z-]+)="/g)].map((m) => m[1]);
      expect(new Set(names).size).toBe(names.length);
    }
    expect(svg).toContain('stroke-dasharray="6 4" points=');
  });

  it('keeps a long curve to a few hundred points', () => {
    const head = Array.from(
      { length: 10_000 },
      (_, index): [number, number] => [index, Math.sin(index / 100)],
    );

    const svg = renderCurvesSvg({
      curves: [{ metric: 'loss', node: 'train', xLabel: 'step', head }],
      headLabel: 'PR',
    });

    const points = /points="([^"]*)"/.exec(svg)?.[1]?.split(' ') ?? [];
    expect(points.length).toBeLessThanOrEqual(401);
    expect(points.length).toBeGreaterThan(300);
  });
});
