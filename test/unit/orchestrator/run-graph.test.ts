import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planNamed } from '../../../src/orchestrator/plan-named.js';
import { loadConfig } from '../../../src/config/load-config.js';
import {
  buildRunGraph,
  descendantsOf,
} from '../../../src/orchestrator/run-graph.js';

const root = resolve(import.meta.dirname, '../../../pipelines');

function pipelineFiles(): string[] {
  const files: string[] = [];
  for (const folder of ['valid', 'scenarios']) {
    for (const name of readdirSync(join(root, folder))) {
      if (name.endsWith('.yaml')) files.push(join(folder, name));
    }
  }
  files.push('examples/iris/kiln.yaml');
  return files;
}

describe('one graph order', () => {
  it.each(pipelineFiles())(
    '%s: kiln plan shows the nodes in the order the run runs them',
    (file) => {
      const text =
        readFileSync(join(root, file), 'utf8').split(/^---$/m)[0] ?? '';
      const { config } = loadConfig(text, { file });

      for (const pipeline of config.pipelines) {
        const planned = planNamed(config, pipeline.name, {});
        const graph = buildRunGraph(config, pipeline.name);
        if (!graph.ok) continue;

        expect(planned?.nodes.map((node) => node.name)).toEqual(
          graph.graph.nodes.map((node) => node.name),
        );
        expect(graph.graph.nodes.map((node) => node.index)).toEqual(
          graph.graph.nodes.map((_node, index) => index),
        );
      }
    },
  );

  it('puts a node after the one it waits for, file order otherwise', () => {
    const text = readFileSync(join(root, 'valid/plan-order.yaml'), 'utf8');
    const { config } = loadConfig(text, { file: 'plan-order.yaml' });

    const graph = buildRunGraph(config, 'ordered');

    expect(graph.ok && graph.graph.nodes.map((node) => node.name)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('names every node after a node as its descendants, in graph order', () => {
    const text =
      readFileSync(join(root, 'scenarios/02-diamond.yaml'), 'utf8').split(
        /^---$/m,
      )[0] ?? '';
    const { config } = loadConfig(text, { file: 'diamond.yaml' });
    const graph = buildRunGraph(config, 'diamond');
    if (!graph.ok) throw new Error(graph.message);

    expect(
      descendantsOf(graph.graph, 'prepare').map((node) => node.name),
    ).toEqual(['train-a', 'train-b', 'evaluate']);
    expect(
      descendantsOf(graph.graph, 'train-b').map((node) => node.name),
    ).toEqual(['evaluate']);
  });
});
