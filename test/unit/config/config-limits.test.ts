/**
 * Limits a pipeline file meets before kiln spends time on it (reliability
 * plan §8.2 rows 30–31, issue 11 item 9): the reader's work grows with
 * lines, flow items and top-level items, and it runs on the server's event
 * loop — a 10,000-step file stalled it for 1.5 s, a 680 KB flow list for
 * 10 s. Each limit is met in a few milliseconds with a clear error, and
 * names the limit. Empty names are errors too (a node named '' passed
 * validation and its run never started).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { initialNodes } from '../../../src/orchestrator/graph-progress.js';
import { buildRunGraph } from '../../../src/orchestrator/run-graph.js';

function load(text: string) {
  const started = performance.now();
  const loaded = loadConfig(text, { file: 'kiln.yaml' });
  return { ...loaded, ms: performance.now() - started };
}

function steps(count: number): string {
  let text = '';
  for (let i = 0; i < count; i += 1) {
    text += `- step:\n    name: s${i}\n    image: busybox\n    command: echo ${i}\n`;
  }
  return text;
}

function errorsOf(text: string): string[] {
  return load(text)
    .findings.filter((finding) => finding.severity === 'error')
    .map((finding) => finding.message);
}

describe('pipeline file limits', () => {
  it.each([
    {
      what: '10,000 steps',
      text: steps(10_000),
      error: /has 40001 lines; kiln reads pipeline files of up to 5000 lines/,
    },
    {
      what: '2,000 one-line steps',
      text: Array.from(
        { length: 2_000 },
        (_, i) => `- step: {name: s${i}, image: b, command: c}\n`,
      ).join(''),
      error: /has 2000 top-level items .* kiln reads up to 1000/,
    },
    {
      what: 'a flow list of 340,000 items',
      text: `- step:\n    name: a\n    image: b\n    command: [${Array(340_000).fill('1').join(',')}]\n`,
      error: /has 339999 commas; kiln reads pipeline files with up to 5000/,
    },
    {
      what: '1,500 steps in one flow list on one line',
      text: `[${Array.from({ length: 1_500 }, (_, i) => `{step: {name: s${i}, image: b, command: c}}`).join(', ')}]\n`,
      error: /line 1 has 4499 commas; kiln reads lines with up to 1000/,
    },
    {
      what: '1,500 steps in one flow list, one per line',
      text: `[\n${Array.from({ length: 1_500 }, (_, i) => `{step: {name: s${i}, image: b,\n command: c}}`).join(',\n')}]\n`,
      error: /has 1500 items .* kiln reads up to 1000/,
      // Parsed first (every line and separator is within its limit), then
      // refused before any item is checked: parsing time is not bounded
      // tighter here than the limits above bound it.
      withinMs: Number.POSITIVE_INFINITY,
    },
  ])(
    'refuses $what in milliseconds, naming the limit',
    ({ text, error, withinMs = 250 }) => {
      const loaded = load(text);

      expect(loaded.valid).toBe(false);
      expect(loaded.findings.map((finding) => finding.message)).toEqual([
        expect.stringMatching(error),
      ]);
      expect(loaded.ms).toBeLessThan(withinMs);
    },
  );

  it('refuses a pipeline of more than 1,000 nodes before building its graph', () => {
    const nodes = Array.from(
      { length: 1_001 },
      (_, i) => `      - {name: n${i}, type: execution, step: s0}\n`,
    ).join('');
    const text = `${steps(1)}- pipeline:\n    name: p\n    nodes:\n${nodes}    edges: []\n`;

    expect(errorsOf(text)).toEqual([
      'pipeline "p" has 1001 nodes; kiln runs pipelines of up to 1000 nodes',
    ]);
  });

  it('reads and plans a 500-node DAG (reliability plan L5) within the limits, with no quadratic cost', () => {
    // Fan-out 100, fan-in 1 (the plan's shape; bench/tree-config.ts): each
    // node has one upstream node, the root feeds 100 and so on. The bench
    // (npm run bench:dag) measures < 200 ms; the bound here is 10 times
    // looser so a busy CI machine does not flake, yet a quadratic cost
    // (1,000 nodes ≈ 4× of 500) or a stall fails.
    function tree(count: number): string {
      const nodes = Array.from(
        { length: count },
        (_, i) => `      - {name: n${i}, type: execution, step: s0}\n`,
      ).join('');
      const edges = Array.from(
        { length: count - 1 },
        (_, i) =>
          `      - [n${Math.floor(i / 100)}.output.*, n${i + 1}.input.x]\n`,
      ).join('');
      return `${steps(1).replace('command: echo 0', 'command: echo 0\n    inputs: [{name: x}]')}- pipeline:\n    name: p\n    nodes:\n${nodes}    edges:\n${edges}`;
    }
    function plan(count: number): number {
      const loaded = load(tree(count));
      expect(
        loaded.findings.filter((finding) => finding.severity === 'error'),
      ).toEqual([]);
      const started = performance.now();
      const built = buildRunGraph(loaded.config, 'p');
      if (!built.ok) throw new Error(built.message);
      const init = initialNodes(built.graph, {
        runId: 'r',
        now: new Date(0).toISOString(),
        hold: false,
      });
      expect(init.nodes).toHaveLength(count);
      expect(init.queued).toEqual(['n0']);
      return loaded.ms + performance.now() - started;
    }
    plan(500); // the first call compiles the reader's code
    const fiveHundred = Math.min(plan(500), plan(500));
    const thousand = Math.min(plan(1000), plan(1000));

    expect(fiveHundred).toBeLessThan(2000);
    expect(thousand).toBeLessThan(4000);
    expect(thousand / fiveHundred).toBeLessThan(3.5);
  });

  it.each([
    {
      what: 'node',
      text: `${steps(1)}- pipeline:\n    name: p\n    nodes:\n      - {name: '', type: execution, step: s0}\n    edges: []\n`,
      error: 'node name "" is empty; give it a name',
    },
    {
      what: 'step',
      text: "- step:\n    name: ' '\n    image: b\n    command: c\n",
      error: 'step name " " is empty; give it a name',
    },
    {
      what: 'pipeline',
      text: `${steps(1)}- pipeline:\n    name: ''\n    nodes:\n      - {name: a, type: execution, step: s0}\n    edges: []\n`,
      error:
        'the pipeline name is empty; give the pipeline a name (runs are named after it)',
    },
  ])('refuses an empty $what name', ({ text, error }) => {
    expect(errorsOf(text)).toContain(error);
  });
});
