/**
 * What the demo shows of a run: each node's state and final metrics, the
 * pull-request comment the reporter renders for it, and — when GitHub is
 * configured — whether GitHub received the reports.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { RunRecord } from '../src/model/run.js';
import { buildRunReport } from '../src/reporter/build-run-report.js';
import { readRunDelivery } from '../src/reporter/read-run-delivery.js';
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

export interface WaitForDeliveryOptions {
  redis: Redis;
  stores: Stores;
  /** Each must get its final status; pull request runs also the comment. */
  runs: RunRecord[];
  timeoutMs: number;
}

/**
 * Waits until GitHub has each run's final commit status and, for the
 * latest run of a pull request, the PR comment (as the reporter recorded
 * them). Resolves with what is still missing: empty when all arrived.
 */
export async function waitForDelivery(
  options: WaitForDeliveryOptions,
): Promise<string[]> {
  const deadline = Date.now() + options.timeoutMs;
  const latestOfPr = new Map<number, RunRecord>();
  for (const run of options.runs) {
    const pr = run.trigger?.pullRequest;
    if (pr !== undefined && run.counter > (latestOfPr.get(pr)?.counter ?? -1))
      latestOfPr.set(pr, run);
  }
  for (;;) {
    const missing: string[] = [];
    for (const run of options.runs) {
      const delivery = await readRunDelivery(
        options.redis,
        options.stores.keys,
        run,
      );
      if (delivery.status === undefined || delivery.status === 'pending') {
        missing.push(
          `the final status of run #${run.counter} (commit ${run.commit.slice(0, 7)}; GitHub has ${delivery.status ?? 'no status'})`,
        );
      }
      const pr = run.trigger?.pullRequest;
      if (pr !== undefined && latestOfPr.get(pr) === run && !delivery.comment)
        missing.push(
          `the comment on pull request #${pr} for run #${run.counter}`,
        );
    }
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await sleep(250);
  }
}

/**
 * One line on whether the GitHub API answers at all, for when reports did
 * not arrive: kiln's client logs a connection refused as "500 with id
 * UNKNOWN", which reads as if GitHub had answered. No credentials are sent.
 */
export async function probeGithub(apiUrl: string): Promise<string> {
  try {
    const response = await fetch(apiUrl, {
      signal: AbortSignal.timeout(5_000),
      redirect: 'manual',
    });
    await response.body?.cancel();
    return `${apiUrl} answers (HTTP ${response.status}): look at kiln's log below for what it refused`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } })
      .cause;
    const why =
      cause?.code ??
      cause?.message ??
      (error instanceof Error ? error.message : String(error));
    return `kiln could not reach ${apiUrl} (${why}): is KILN_GITHUB_API_URL right, and is it reachable from here?`;
  }
}
