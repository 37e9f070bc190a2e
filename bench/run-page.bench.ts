/**
 * M-UI, the run page of a 50-node pipeline with 10,000 log lines in all (a
 * run with 45 steps done and 5 running, stored as the transitions leave it,
 * on a private redis-server), each against a static file of the same bytes
 * served by the same express app (the floor: HTTP, express, the bytes):
 * - first render: the page's HTML fetched over HTTP to the last byte;
 * - live update: what the page fetches when the run changes (its regions,
 *   `?regions=1`), to the last byte.
 * Prints both ratios.
 *
 *   npx tsx bench/run-page.bench.ts   (or npm run bench:ui)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { RunRecord } from '../src/model/run.js';
import { executionIdFor } from '../src/orchestrator/node-machine.js';
import { createStepQueue } from '../src/queue/step-jobs.js';
import { createTokenStore } from '../src/http/auth/token-store.js';
import { createApp } from '../src/engine/create-app.js';
import { readSettings } from '../src/settings.js';
import { createStores } from '../src/store/create-stores.js';
import { startTestRedis } from '../test/helpers/redis-server.js';
import { runBenchmark } from './harness.js';

const NODES = 50;
const LOG_LINES = 10_000;
const METRICS_PER_NODE = 20;
const RUNNING = 5;

function pipelineYaml(): string {
  const steps = Array.from(
    { length: NODES },
    (_, index) =>
      `- step:\n    name: s${index}\n    image: busybox\n    command: echo ${index}\n    parameters:\n      - name: lr\n        type: float\n        default: 0.1\n`,
  );
  const nodes = Array.from(
    { length: NODES },
    (_, index) =>
      `      - name: n${index}\n        type: execution\n        step: s${index}\n`,
  );
  // Five parallel chains of ten: a layered graph, not a line.
  const edges = Array.from({ length: NODES }, (_, index) => index)
    .filter((index) => index >= 5)
    .map(
      (index) =>
        `      - [n${index - 5}.parameter.lr, n${index}.parameter.lr]\n`,
    );
  return `${steps.join('')}- pipeline:\n    name: big\n    nodes:\n${nodes.join('')}    edges:\n${edges.join('')}`;
}

async function main(): Promise<void> {
  const redis = await startTestRedis();
  const temp = mkdtempSync(join(tmpdir(), 'kiln-bench-ui-'));
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  const bull = new Redis(redis.url, { maxRetriesPerRequest: null });
  try {
    const settings = readSettings({
      KILN_DATA_DIR: temp,
      REDIS_URL: redis.url,
      KILN_LOG_LEVEL: 'silent',
    });
    const logger = pino({ level: 'silent' });
    const stores = createStores(client, { prefix: settings.redisPrefix });
    const steps = createStepQueue(bull, stores.keys.bullPrefix);
    const text = pipelineYaml();
    const key = await stores.configs.store(text);
    const runId = 'rbench0001';
    const commit = 'a'.repeat(40);
    const run: RunRecord = {
      id: runId,
      counter: 1,
      repository: 'acme/bench',
      commit,
      ref: 'refs/heads/main',
      kind: 'pipeline',
      name: 'big',
      status: 'running',
      parameters: {},
      // 45 steps done, the last 5 running: the page shows their output.
      nodes: Array.from({ length: NODES }, (_, index) => ({
        name: `n${index}`,
        step: `s${index}`,
        index,
        status:
          index < NODES - RUNNING
            ? ('complete' as const)
            : ('started' as const),
        ...(index < NODES - RUNNING ? {} : { phase: 'running' as const }),
        attempt: 1,
        generation: 1,
        executionId: executionIdFor(runId, index, 1),
      })),
      createdAt: new Date().toISOString(),
      config: { file: 'kiln.yaml', key },
    };
    // A running run, stored as its transitions left it.
    await stores.runs.createRun(run, { waits: {}, queued: [], skipped: [] });
    const perNode = LOG_LINES / NODES;
    for (let index = 0; index < NODES; index += 1) {
      const id = executionIdFor(runId, index, 1);
      await stores.executions.createExecution({
        id,
        counter: index + 1,
        repository: 'acme/bench',
        commit,
        step: `s${index}`,
        runId,
        node: `n${index}`,
        image: 'busybox',
        imageDigest: `sha256:${'b'.repeat(64)}`,
        command: [`echo ${index}`],
        parameters: { lr: 0.1 },
        inputs: [],
        outputs: [
          {
            path: 'model.bin',
            size: 1234,
            sha256: 'c'.repeat(64),
            tags: [],
            datum: `datum://d${index}`,
          },
        ],
        metrics: { loss: 0.1, acc: 0.9 },
        status: index < NODES - RUNNING ? 'complete' : 'started',
        runtime: 'docker',
        host: 'bench',
        attempt: 1,
        createdAt: new Date().toISOString(),
      });
      await stores.executions.appendOutput(id, {
        lines: Array.from({ length: perNode }, (_, seq) => ({
          seq,
          time: new Date().toISOString(),
          stream: 'stdout' as const,
          text: `epoch ${seq} loss=${(1 / (seq + 1)).toFixed(5)} some ordinary training output`,
        })),
        metrics: Array.from({ length: METRICS_PER_NODE }, (_, step) => ({
          time: new Date(Date.now() + step).toISOString(),
          values: { step, loss: 1 / (step + 1), acc: step / METRICS_PER_NODE },
        })),
      });
    }
    const { token } = await createTokenStore(client, {
      keys: stores.keys,
    }).createToken({ name: 'bench', role: 'viewer' });

    const app = express();
    const staticFile = join(temp, 'same-size.html');
    const regionsFile = join(temp, 'same-size-regions.html');
    app.get('/same-size.html', (_req, res) => res.sendFile(staticFile));
    app.get('/same-size-regions.html', (_req, res) =>
      res.sendFile(regionsFile),
    );
    app.use(
      createApp({
        settings,
        logger,
        redis: client,
        keys: stores.keys,
        control: { ...stores, steps, logger },
      }),
    );
    const server = createServer(app);
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const headers = { authorization: `Bearer ${token}` };
    const fetchText = async (path: string) => {
      const response = await fetch(`${base}${path}`, { headers });
      const body = await response.text();
      if (response.status !== 200)
        throw new Error(`${path}: ${response.status}`);
      return body;
    };
    const page = await fetchText(`/runs/${runId}`);
    const regions = await fetchText(`/runs/${runId}?regions=1`);
    writeFileSync(staticFile, page);
    writeFileSync(regionsFile, regions);
    try {
      await runBenchmark({
        id: 'M-UI',
        name: 'run-page',
        subject: () => fetchText(`/runs/${runId}`),
        baseline: () => fetchText('/same-size.html'),
        repetitions: 15,
        targetRatio: 10,
        details: {
          nodes: NODES,
          logLines: LOG_LINES,
          htmlBytes: Buffer.byteLength(page),
        },
      });
      await runBenchmark({
        id: 'M-UI-live',
        name: 'run-page-live-update',
        subject: () => fetchText(`/runs/${runId}?regions=1`),
        baseline: () => fetchText('/same-size-regions.html'),
        repetitions: 15,
        targetRatio: 10,
        details: {
          nodes: NODES,
          logLines: LOG_LINES,
          htmlBytes: Buffer.byteLength(regions),
        },
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await steps.close();
  } finally {
    client.disconnect();
    bull.disconnect();
    await redis.close();
    rmSync(temp, { recursive: true, force: true });
  }
}

await main();
