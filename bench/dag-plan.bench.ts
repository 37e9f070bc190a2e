/**
 * L5, one big DAG (reliability plan §8.4 L5; docs benchmarks.md "L5
 * dag-plan"): a pipeline of 500 nodes, fan-out 100 and fan-in 1
 * (`bench/tree-config.ts`). Timed: what the server does with such a file
 * before the first node is queued — `loadConfig` (YAML, schema, lint:
 * edges, cycles, names), `buildRunGraph`, `checkRunParameters` and
 * `initialNodes` (the pure part of `createRun`) — and, apart, every
 * release decision of the run (`releasesOf` for each node, what the worker
 * asks as nodes end). Also at 1,000 nodes (`L5_LARGE`): the ratio of the
 * two times shows how the cost grows (2 linear, 4 quadratic).
 *
 * The first call is timed in a fresh process (cold: no JIT yet), then
 * L5_SAMPLES samples per size, interleaved. Absolute target from the plan,
 * no baseline.
 *
 *   npm run bench:dag   (L5_NODES=500 L5_LARGE=1000 L5_SAMPLES=20)
 */
import { loadConfig } from '../src/config/load-config.js';
import { checkRunParameters } from '../src/orchestrator/check-run-parameters.js';
import {
  initialNodes,
  releasesOf,
} from '../src/orchestrator/graph-progress.js';
import { buildRunGraph } from '../src/orchestrator/run-graph.js';
import { median, percentile } from './bench-stats.js';
import { treeConfig } from './tree-config.js';

const NODES = Number(process.env.L5_NODES ?? 500);
const LARGE = Number(process.env.L5_LARGE ?? 1000);
const SAMPLES = Math.max(5, Number(process.env.L5_SAMPLES ?? 20));
const context = { runId: 'bench', now: new Date().toISOString() };

interface Sample {
  /** loadConfig: validation. */
  validate: number;
  /** Graph, parameters, initial nodes: the scheduling plan. */
  plan: number;
  /** releasesOf for every node: the run's release decisions. */
  releases: number;
}

function planOnce(text: string, nodes: number): Sample {
  const t0 = performance.now();
  const loaded = loadConfig(text, { file: 'kiln.yaml' });
  const t1 = performance.now();
  if (!loaded.valid)
    throw new Error(
      `the ${nodes}-node file is invalid: ${loaded.findings.map((f) => f.message).join('; ')}`,
    );
  const built = buildRunGraph(loaded.config, 'tree');
  if (!built.ok) throw new Error(built.message);
  const problems = checkRunParameters(loaded.config, built.graph, {});
  if (problems.length > 0) throw new Error(problems.join('; '));
  const init = initialNodes(built.graph, { ...context, hold: false });
  const t2 = performance.now();
  if (init.nodes.length !== nodes || init.queued.length !== 1)
    throw new Error(`plan of ${nodes} nodes: ${init.nodes.length} nodes`);
  let released = 0;
  for (const node of built.graph.nodes)
    released += releasesOf(built.graph, node.name, context).length;
  const t3 = performance.now();
  if (released !== nodes - 1)
    throw new Error(`${released} releases in a ${nodes}-node tree`);
  return { validate: t1 - t0, plan: t2 - t1, releases: t3 - t2 };
}

const small = treeConfig(NODES);
const large = treeConfig(LARGE);
const cold = planOnce(small, NODES);
const samples = new Map<number, Sample[]>([
  [NODES, []],
  [LARGE, []],
]);
planOnce(large, LARGE);
for (let i = 0; i < SAMPLES; i += 1) {
  samples.get(NODES)?.push(planOnce(small, NODES));
  samples.get(LARGE)?.push(planOnce(large, LARGE));
}

const total = (s: Sample) => s.validate + s.plan;
const of = (nodes: number, pick: (s: Sample) => number) =>
  (samples.get(nodes) ?? []).map(pick);
const ms = (value: number) => `${value.toFixed(1)} ms`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const smallMedian = median(of(NODES, total));
const largeMedian = median(of(LARGE, total));
const growth = largeMedian / smallMedian;
const releaseGrowth =
  median(of(LARGE, (s) => s.releases)) / median(of(NODES, (s) => s.releases));
const lines = [
  `L5 dag-plan: one pipeline of ${NODES} nodes, fan-out 100, fan-in 1 (${small.length} bytes of kiln.yaml); ${SAMPLES} samples per size after a cold first call`,
  `  validation + scheduling plan, ${NODES} nodes: warm p50 ${ms(smallMedian)}, p95 ${ms(percentile(of(NODES, total), 95))} (< 200 ms ${verdict(percentile(of(NODES, total), 95) < 200)}); the first call in a fresh process (code not yet compiled) ${ms(total(cold))} (validation ${ms(cold.validate)}, plan ${ms(cold.plan)})`,
  `  of which, warm p50: validation ${ms(median(of(NODES, (s) => s.validate)))}, graph + parameters + initial nodes ${ms(median(of(NODES, (s) => s.plan)))}; every release decision of the run ${ms(median(of(NODES, (s) => s.releases)))}`,
  `  ${LARGE} nodes: warm p50 ${ms(largeMedian)}, p95 ${ms(percentile(of(LARGE, total), 95))}; ${LARGE}/${NODES} nodes time ratio ${growth.toFixed(2)} (linear ${(LARGE / NODES).toFixed(0)}, quadratic ${((LARGE / NODES) ** 2).toFixed(0)}; no quadratic blow-up: ≤ ${(1.25 * (LARGE / NODES)).toFixed(1)} ${verdict(growth <= 1.25 * (LARGE / NODES))}); release decisions ratio ${releaseGrowth.toFixed(2)}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
