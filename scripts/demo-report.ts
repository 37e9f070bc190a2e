/**
 * What the demo shows of a run: each node's state and final metrics, and
 * the pull-request comment the reporter renders for it.
 */
import type { Redis } from 'ioredis';
import type { RunRecord } from '../src/model/run.js';
import { buildRunReport } from '../src/reporter/build-run-report.js';
import type { Stores } from '../src/store/index.js';
import type { KilnProcess } from './demo-kiln.js';

const say = (line = '') => process.stdout.write(`${line}\n`);

export async function showRun(
  stores: Stores,
  run: RunRecord,
  kiln: KilnProcess,
): Promise<void> {
  const executions = await stores.executions.listExecutions({
    runId: run.id,
    limit: 100,
  });
  for (const node of run.nodes) {
    const execution = executions.find((item) => item.id === node.executionId);
    const metrics = Object.entries(execution?.metrics ?? {})
      .map(([name, value]) => `${name}=${String(value)}`)
      .join(' ');
    say(`  ${node.name.padEnd(9)} ${node.status.padEnd(9)} ${metrics}`);
  }
  say(`  UI: ${kiln.url}/runs/${encodeURIComponent(run.id)}`);
}

export async function renderComment(options: {
  stores: Stores;
  redis: Redis;
  run: RunRecord;
  baseSha: string;
  kiln: KilnProcess;
}): Promise<string> {
  const { run } = options;
  // The base branch is known from the delivery; older intake versions did
  // not record it on the run, so it is filled in here when missing.
  const withBase: RunRecord = {
    ...run,
    trigger: {
      event: run.trigger?.event ?? 'pull_request',
      ...run.trigger,
      baseRef: run.trigger?.baseRef ?? 'refs/heads/main',
      baseSha: run.trigger?.baseSha ?? options.baseSha,
    },
  };
  const report = await buildRunReport(
    {
      redis: options.redis,
      keys: options.stores.keys,
      configs: options.stores.configs,
      runs: options.stores.runs,
      executions: options.stores.executions,
      publicUrl: `http://localhost:${options.kiln.port}`,
    },
    withBase,
  );
  return report.body;
}
