/**
 * M2, fan-out dispatch throughput (docs benchmarks.md §9 M2): a pipeline
 * with a root and N independent no-op nodes after it (each fed by an edge
 * from the root), run with the null runtime, so what is timed is kiln's
 * dispatch: advance under the run lock, enqueue, pick-up, records, git
 * tree, finish. Baseline: raw BullMQ — `addBulk` of N jobs and a `Worker`
 * with the same concurrency and a no-op handler, on the same Redis.
 * Also reported, measured once per side outside the timed samples: Redis
 * commands, Node CPU and redis-server CPU per step (work, where the time
 * ratio also counts waiting), and kiln's time per step at 100…N nodes (it
 * must stay flat: no cost grows with the run's size).
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
let rootEndedCpu = process.cpuUsage();
const runtime = kiln.engine.deps.runtime;
const run = runtime.run.bind(runtime);
runtime.run = async (spec, sink, signal) => {
  try {
    return await run(spec, sink, signal);
  } finally {
    if (spec.executionId.endsWith('-0-1')) {
      rootEnded = performance.now();
      rootEndedCpu = process.cpuUsage();
    }
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

/**
 * Redis commands, Node CPU and redis-server CPU (µs) one call costs; Node
 * CPU from `since()` when given (kiln: the root step's end, as timed).
 */
async function costOf(
  side: () => Promise<unknown>,
  since?: () => NodeJS.CpuUsage,
) {
  const redisCpu = async () => {
    const info = await kiln.raw.info('cpu');
    const user = /used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? '0';
    const system = /used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? '0';
    return (Number(user) + Number(system)) * 1e6;
  };
  const commands = await countRedisCommands(kiln.raw);
  const redis = await redisCpu();
  const node = process.cpuUsage();
  await side();
  const nodeUsed = process.cpuUsage(since?.() ?? node);
  return {
    commands: (await countRedisCommands(kiln.raw)) - commands,
    nodeCpuUs: nodeUsed.user + nodeUsed.system,
    redisCpuUs: (await redisCpu()) - redis,
  };
}
const kilnCost = await costOf(runKiln, () => rootEndedCpu);
const baselineCost = await costOf(runBaseline);
const perStep = (value: number, steps: number) =>
  Number((value / steps).toFixed(1));
const kilnCommands = kilnCost.commands;
const baselineCommands = baselineCost.commands;

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
    kilnNodeCpuUsPerStep: perStep(kilnCost.nodeCpuUs, NODES + 1),
    baselineNodeCpuUsPerStep: perStep(baselineCost.nodeCpuUs, NODES),
    kilnRedisCpuUsPerStep: perStep(kilnCost.redisCpuUs, NODES + 1),
    baselineRedisCpuUsPerStep: perStep(baselineCost.redisCpuUs, NODES),
  },
});
const steps = (ms: number) => ((NODES / ms) * 1000).toFixed(0);
process.stdout.write(
  `M2 steps/s: kiln ${steps(result.subject.median)}, baseline ${steps(result.baseline.median)}; ` +
    `Redis commands per step: kiln ${(kilnCommands / (NODES + 1)).toFixed(1)}, baseline ${(baselineCommands / NODES).toFixed(1)}\n`,
);
process.stdout.write(
  `M2 CPU per step (µs): kiln node ${perStep(kilnCost.nodeCpuUs, NODES + 1)} + redis ${perStep(kilnCost.redisCpuUs, NODES + 1)}, ` +
    `baseline node ${perStep(baselineCost.nodeCpuUs, NODES)} + redis ${perStep(baselineCost.redisCpuUs, NODES)}\n`,
);

// Flat cost: kiln's time per step (median of 3) at growing sizes.
const sizes = (process.env.FANOUT_SIZES ?? '100,500,1000,2000')
  .split(',')
  .map(Number)
  .filter((size) => size > 0 && size <= NODES);
const flat: string[] = [];
for (const size of sizes) {
  const sized = fanOutConfig(size);
  const times: number[] = [];
  for (let sample = 0; sample < 3; sample += 1) {
    await kiln.runToEnd(sized, 'fan-out');
    times.push(kiln.lastEndedAt - rootEnded);
  }
  times.sort((a, b) => a - b);
  flat.push(`${size}: ${(((times[1] ?? 0) / size) * 1000).toFixed(0)} µs`);
}
if (flat.length > 0) {
  process.stdout.write(`M2 kiln time per step by size: ${flat.join(', ')}\n`);
}
await kiln.close();
rmSync(dataDir, { recursive: true, force: true });
