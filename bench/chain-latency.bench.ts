/**
 * M3, step-to-step latency on a linear chain (docs benchmarks.md §9 M3): a
 * chain of N no-op nodes with the null runtime; for each edge, the time
 * from the end of step k's work (the runtime returning) to the start of
 * step k+1's (the runtime called again) — kiln's outputs, final record,
 * advance under the run lock, enqueue and pick-up. Baseline: a raw BullMQ
 * ping-pong on the same Redis (the handler of job k adds job k+1), from the
 * end of handler k to the start of handler k+1. The harness times whole
 * chains (ratio); p50 and p95 of the edge latencies are printed and kept.
 *
 *   npm run bench:chain   (CHAIN_NODES=200 CHAIN_CONCURRENCY=2)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { percentile } from './bench-stats.js';
import { chainConfig } from './chain-config.js';
import { runBenchmark } from './harness.js';
import { startNullEngine } from './null-engine.js';

const NODES = Number(process.env.CHAIN_NODES ?? 200);
const CONCURRENCY = Number(process.env.CHAIN_CONCURRENCY ?? 2);
const REPETITIONS = Number(process.env.CHAIN_REPETITIONS ?? 5);

const dataDir = mkdtempSync(join(tmpdir(), 'kiln-bench-m3-'));
const kiln = await startNullEngine({ concurrency: CONCURRENCY, dataDir });
const config = chainConfig(NODES);
const connection = { host: '127.0.0.1', port: kiln.redis.port };

// Step work start/end per node index, from the runtime's point of view.
const starts = new Map<number, number>();
const ends = new Map<number, number>();
const runtime = kiln.engine.deps.runtime;
const run = runtime.run.bind(runtime);
runtime.run = async (spec, sink, signal) => {
  const index = Number(spec.executionId.split('-').at(-2));
  starts.set(index, performance.now());
  try {
    return await run(spec, sink, signal);
  } finally {
    ends.set(index, performance.now());
  }
};
const kilnGaps: number[] = [];
const baselineGaps: number[] = [];

function collectGaps(into: number[]): void {
  for (let k = 0; k + 1 < NODES; k += 1) {
    const end = ends.get(k);
    const next = starts.get(k + 1);
    if (end !== undefined && next !== undefined) into.push(next - end);
  }
  starts.clear();
  ends.clear();
}

async function runKiln(): Promise<void> {
  await kiln.runToEnd(config, 'chain');
  collectGaps(kilnGaps);
}

let round = 0;
async function runBaseline(): Promise<void> {
  round += 1;
  const name = `baseline-m3-${round}`;
  const queue = new Queue(name, { connection });
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker<{ k: number }>(
    name,
    async (job) => {
      const k = job.data.k;
      starts.set(k, performance.now());
      if (k + 1 < NODES) {
        await queue.add('step', { k: k + 1 }, { removeOnComplete: true });
      }
      ends.set(k, performance.now());
      if (k + 1 === NODES) finish();
    },
    { connection, concurrency: CONCURRENCY },
  );
  await worker.waitUntilReady();
  await queue.add('step', { k: 0 }, { removeOnComplete: true });
  await finished;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  collectGaps(baselineGaps);
}

const result = await runBenchmark({
  id: 'M3',
  name: 'chain-latency',
  subject: runKiln,
  baseline: runBaseline,
  repetitions: REPETITIONS,
  targetRatio: 2,
  details: { nodes: NODES, concurrency: CONCURRENCY },
});
// The warm-up round is included in the edge samples on both sides.
const p = (values: number[], q: number) => percentile(values, q);
const p50 = [p(kilnGaps, 50), p(baselineGaps, 50)] as const;
const p95 = [p(kilnGaps, 95), p(baselineGaps, 95)] as const;
process.stdout.write(
  `M3 edge latency: kiln p50 ${p50[0].toFixed(2)} ms p95 ${p95[0].toFixed(2)} ms; ` +
    `baseline p50 ${p50[1].toFixed(2)} ms p95 ${p95[1].toFixed(2)} ms; ` +
    `ratio p50 ${(p50[0] / p50[1]).toFixed(1)} (target ≤ 2), p95 ${(p95[0] / p95[1]).toFixed(1)} (target ≤ 3); chain ratio ${result.ratio.toFixed(1)}\n`,
);

// Where an edge's time goes: one more chain with marks at each hand-over
// (the node's end applied, the next job added, picked up, claimed).
const marks: Array<{ at: number; what: string }> = [];
const mark = (what: string) => marks.push({ at: performance.now(), what });
const { runs, steps } = kiln.engine.deps;
const applyNode = runs.applyNode.bind(runs);
runs.applyNode = async (change) => {
  const what = change.to.status === 'started' ? 'claim' : 'end';
  mark(`${what} sent`);
  try {
    return await applyNode(change);
  } finally {
    mark(`${what} applied`);
  }
};
const enqueue = steps.enqueue.bind(steps);
steps.enqueue = async (queue, jobs) => {
  mark('add sent');
  try {
    return await enqueue(queue, jobs);
  } finally {
    mark('job added');
  }
};
runtime.run = async (spec, sink, signal) => {
  mark('step started');
  try {
    return await run(spec, sink, signal);
  } finally {
    mark('step returned');
  }
};
await kiln.runToEnd(config, 'chain');
const spans = new Map<string, number[]>();
let previous: { at: number; what: string } | undefined;
for (const item of marks) {
  if (previous && previous.what !== 'step started') {
    const span = `${previous.what} → ${item.what}`;
    spans.set(span, [...(spans.get(span) ?? []), item.at - previous.at]);
  }
  previous = item;
}
process.stdout.write('M3 one edge, p50 of each hand-over:\n');
for (const [span, values] of spans) {
  if (values.length < NODES / 2) continue;
  process.stdout.write(
    `  ${span.padEnd(30)} ${(percentile(values, 50) * 1000).toFixed(0)} µs\n`,
  );
}
await kiln.close();
rmSync(dataDir, { recursive: true, force: true });
