/**
 * M11, sweep dispatch: a top-level task of N children (a grid over one
 * parameter, N values), null runtime, one in-process step worker — what
 * is timed is kiln's task path: the task node's job creating the children
 * in one script, every child's claim, record and end (each releasing the
 * next and counting down the batch's join), the join settling the task
 * and the run. Baseline: raw BullMQ `addBulk` of N jobs and a `Worker`
 * with the same concurrency and a no-op handler, on the same Redis. Also
 * reported: Redis commands per child on each side.
 *
 *   npm run bench:sweep   (SWEEP_CHILDREN=1000 SWEEP_CONCURRENCY=4
 *                          SWEEP_MAX_QUEUED=unset SWEEP_REPETITIONS=5)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { runBenchmark } from './harness.js';
import { countRedisCommands, startNullEngine } from './null-engine.js';

const CHILDREN = Number(process.env.SWEEP_CHILDREN ?? 1000);
const CONCURRENCY = Number(process.env.SWEEP_CONCURRENCY ?? 4);
const MAX_QUEUED = process.env.SWEEP_MAX_QUEUED;
const REPETITIONS = Number(process.env.SWEEP_REPETITIONS ?? 5);

function sweepConfig(children: number): string {
  return [
    '- step:',
    '    name: noop',
    '    image: busybox',
    '    command: "true {parameters}"',
    '    parameters:',
    '      - {name: seed, type: integer, default: 0}',
    '- task:',
    '    name: sweep',
    '    step: noop',
    ...(MAX_QUEUED ? [`    maximum-queued-executions: ${MAX_QUEUED}`] : []),
    '    parameters:',
    `      - {name: seed, style: linear, rules: {start: 1, end: ${children}, step: 1}}`,
    '',
  ].join('\n');
}

const dataDir = mkdtempSync(join(tmpdir(), 'kiln-bench-m11-'));
const kiln = await startNullEngine({ concurrency: CONCURRENCY, dataDir });
const config = sweepConfig(CHILDREN);
const connection = { host: '127.0.0.1', port: kiln.redis.port };
let round = 0;

async function runKiln(): Promise<void> {
  const finished = await kiln.runToEnd(config, 'sweep');
  const children = finished.nodes.filter((node) =>
    node.name.startsWith('sweep#'),
  );
  if (
    children.length !== CHILDREN ||
    children.some((node) => node.status !== 'complete')
  ) {
    throw new Error('children missing or not complete');
  }
}

async function runBaseline(): Promise<void> {
  round += 1;
  const name = `baseline-m11-${round}`;
  const queue = new Queue(name, { connection });
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker(
    name,
    async () => {
      done += 1;
      if (done === CHILDREN) finish();
    },
    { connection, concurrency: CONCURRENCY },
  );
  await worker.waitUntilReady();
  await queue.addBulk(
    Array.from({ length: CHILDREN }, (_, i) => ({
      name: 'step',
      data: { child: i },
      opts: { jobId: `j${i}`, removeOnComplete: true },
    })),
  );
  await finished;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
}

// Commands per child, measured once each outside the timed samples.
const before = await countRedisCommands(kiln.raw);
await runKiln();
const kilnCommands = (await countRedisCommands(kiln.raw)) - before;
const middle = await countRedisCommands(kiln.raw);
await runBaseline();
const baselineCommands = (await countRedisCommands(kiln.raw)) - middle;

const result = await runBenchmark({
  id: 'M11',
  name: 'sweep-dispatch',
  subject: runKiln,
  baseline: runBaseline,
  repetitions: REPETITIONS,
  targetRatio: 2,
  details: {
    children: CHILDREN,
    concurrency: CONCURRENCY,
    maximumQueuedExecutions: MAX_QUEUED ?? 'unset',
    kilnCommandsPerChild: kilnCommands / CHILDREN,
    baselineCommandsPerJob: baselineCommands / CHILDREN,
  },
});
const rate = (ms: number) => ((CHILDREN / ms) * 1000).toFixed(0);
process.stdout.write(
  `M11 children/s: kiln ${rate(result.subject.median)}, baseline ${rate(result.baseline.median)}; ` +
    `Redis commands per child: kiln ${(kilnCommands / CHILDREN).toFixed(1)}, baseline ${(baselineCommands / CHILDREN).toFixed(1)}\n`,
);
await kiln.close();
rmSync(dataDir, { recursive: true, force: true });
