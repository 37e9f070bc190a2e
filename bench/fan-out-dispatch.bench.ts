/**
 * M2, fan-out dispatch throughput (docs benchmarks.md §9 M2): a pipeline
 * with a root and N independent no-op nodes after it (each fed by an edge
 * from the root), run with the null runtime, so what is timed is kiln's
 * dispatch: advance under the run lock, enqueue, pick-up, records, git
 * tree, finish. Baseline: raw BullMQ — `addBulk` of N jobs and a `Worker`
 * with the same concurrency and a no-op handler, on the same Redis.
 * Also reported: Redis commands per step on each side.
 *
 *   npm run bench:fan-out   (FANOUT_NODES=2000 FANOUT_CONCURRENCY=4)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { runBenchmark } from './harness.js';
import { fanOutConfig } from './fan-out-config.js';
import { countRedisCommands, startNullEngine } from './null-engine.js';

const NODES = Number(process.env.FANOUT_NODES ?? 2000);
const CONCURRENCY = Number(process.env.FANOUT_CONCURRENCY ?? 4);
const REPETITIONS = Number(process.env.FANOUT_REPETITIONS ?? 5);

const dataDir = mkdtempSync(join(tmpdir(), 'kiln-bench-m2-'));
const kiln = await startNullEngine({ concurrency: CONCURRENCY, dataDir });
const config = fanOutConfig(NODES);
const connection = { host: '127.0.0.1', port: kiln.redis.port };
let round = 0;

// M2 counts from the root step's end (its runtime returning) to the run's
// end, as the baseline counts from its first add to its last job.
let rootEnded = 0;
const runtime = kiln.engine.deps.runtime;
const run = runtime.run.bind(runtime);
runtime.run = async (spec, sink, signal) => {
  try {
    return await run(spec, sink, signal);
  } finally {
    if (spec.executionId.endsWith('-0-1')) rootEnded = performance.now();
  }
};

async function runKiln(): Promise<{ measuredMs: number }> {
  const finished = await kiln.runToEnd(config, 'fan-out');
  if (finished.nodes.length !== NODES + 1) throw new Error('nodes missing');
  return { measuredMs: kiln.lastEndedAt - rootEnded };
}

async function runBaseline(): Promise<{ measuredMs: number }> {
  round += 1;
  const name = `baseline-m2-${round}`;
  const queue = new Queue(name, { connection });
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker(
    name,
    async () => {
      done += 1;
      if (done === NODES) finish();
    },
    { connection, concurrency: CONCURRENCY },
  );
  await worker.waitUntilReady();
  const started = performance.now();
  await queue.addBulk(
    Array.from({ length: NODES }, (_, i) => ({
      name: 'step',
      data: { node: i },
      opts: { jobId: `j${i}`, removeOnComplete: true },
    })),
  );
  await finished;
  const measuredMs = performance.now() - started;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { measuredMs };
}

// Commands per step, measured once each outside the timed samples.
const before = await countRedisCommands(kiln.raw);
await runKiln();
const kilnCommands = (await countRedisCommands(kiln.raw)) - before;
const middle = await countRedisCommands(kiln.raw);
await runBaseline();
const baselineCommands = (await countRedisCommands(kiln.raw)) - middle;

const result = await runBenchmark({
  id: 'M2',
  name: 'fan-out-dispatch',
  subject: runKiln,
  baseline: runBaseline,
  repetitions: REPETITIONS,
  targetRatio: 2,
  details: {
    nodes: NODES,
    concurrency: CONCURRENCY,
    kilnCommandsPerStep: kilnCommands / (NODES + 1),
    baselineCommandsPerStep: baselineCommands / NODES,
  },
});
const steps = (ms: number) => ((NODES / ms) * 1000).toFixed(0);
process.stdout.write(
  `M2 steps/s: kiln ${steps(result.subject.median)}, baseline ${steps(result.baseline.median)}; ` +
    `Redis commands per step: kiln ${(kilnCommands / (NODES + 1)).toFixed(1)}, baseline ${(baselineCommands / NODES).toFixed(1)}\n`,
);
await kiln.close();
rmSync(dataDir, { recursive: true, force: true });
