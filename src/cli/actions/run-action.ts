/**
 * `kiln run NAME`: runs a step, a pipeline or a task of the current git checkout
 * exactly as the server would after a push — the configuration and the code
 * at the commit's SHA, in containers — and records every execution.
 */
import { createEngine, type Engine } from '../../engine/create-engine.js';
import { describeEnd } from '../../model/end-reason.js';
import type { RunRecord } from '../../model/run.js';
import { createLogger } from '../../log.js';
import type { ExecutionRecord } from '../../model/execution.js';
import { cancelRun } from '../../control/cancel-run.js';
import { createRun, newRunId } from '../../control/create-run.js';
import { localStepQueue } from '../../redis/redis-keys.js';
import { readSettings } from '../../settings.js';
import { startStepWorker } from '../../worker/step-worker.js';
import {
  formatBytes,
  formatDuration,
  formatMetrics,
  formatTable,
} from '../../model/format-values.js';
import { openLocalCheckout } from '../local-repository.js';
import { parseParamPairs } from '../parse-param-pairs.js';
import { watchRun } from '../run-progress.js';
import { summarizeTask, taskNodesOf } from '../../control/summarize-task.js';
import { formatTaskText } from '../format-task-text.js';

export interface RunOptions {
  param: string[];
  commit?: string;
  adhoc?: boolean;
  json?: boolean;
  runtime?: string;
  concurrency?: string;
  dir: string;
}

export async function runAction(
  name: string,
  options: RunOptions,
): Promise<number> {
  const settings = readSettings(process.env, {
    runtime: options.runtime,
    concurrency: options.concurrency,
  });
  const logger = createLogger({ level: process.env.KILN_LOG_LEVEL ?? 'error' });
  const parameters = parseParamPairs(options.param);
  const engine = await createEngine({ settings, logger, runsSteps: true });
  for (const note of engine.notes) process.stderr.write(`kiln: ${note}\n`);
  const { deps } = engine;
  try {
    const checkout = await openLocalCheckout({
      dir: options.dir,
      git: deps.git,
      commit: options.commit,
      adhoc: options.adhoc,
    });
    const id = newRunId();
    const queue = localStepQueue(id);
    process.stderr.write(
      `kiln: ${checkout.repository} @ ${checkout.adhoc ? `ad-hoc ${checkout.commit.slice(0, 13)}` : checkout.commit.slice(0, 12)} · ${checkout.configFile} · runtime ${deps.runtime.kind}\n`,
    );
    const run = await createRun(deps, {
      id,
      repository: checkout.repository,
      source: checkout.source,
      commit: checkout.commit,
      name,
      parameters,
      configText: checkout.configText,
      configFile: checkout.configFile,
      queue,
      runtime: deps.runtime.kind,
      trigger: { event: 'manual' },
    });
    if (run.status === 'error') {
      process.stderr.write(
        `kiln: run not started: ${run.reason ?? 'invalid configuration'}\n`,
      );
      if (options.json)
        process.stdout.write(
          `${JSON.stringify({ run, executions: [] }, null, 2)}\n`,
        );
      return 1;
    }
    return await followLocalRun(engine, run, {
      json: options.json,
      concurrency: settings.concurrency,
    });
  } finally {
    await engine.close();
  }
}

/**
 * Runs a run created on its own queue in this process (a step worker on
 * that queue), shows its progress, then its summary — and, for a failed
 * step, how it ended and its last lines. Ctrl-C stops the run (twice:
 * quit at once); the exit code is 0 for a complete run, 130 after Ctrl-C.
 */
export async function followLocalRun(
  engine: Engine,
  run: RunRecord,
  options: { json?: boolean; concurrency: number },
): Promise<number> {
  const { deps } = engine;
  const id = run.id;
  const worker = startStepWorker(deps, {
    queue: run.queue ?? localStepQueue(id),
    concurrency: options.concurrency,
    connection: engine.bullConnection,
    prefix: engine.keys.bullPrefix,
  });
  try {
    let interrupted = 0;
    const onInterrupt = () => {
      interrupted += 1;
      if (interrupted > 1) process.exit(130);
      process.stderr.write(
        '\nkiln: stopping the run (Ctrl-C again to quit at once)\n',
      );
      void cancelRun(deps, { runId: id, reason: 'interrupted (Ctrl-C)' });
    };
    process.on('SIGINT', onInterrupt);
    const final = await watchRun({
      runs: deps.runs,
      executions: deps.executions,
      feed: engine.feed,
      runId: id,
      out: options.json ? process.stderr : process.stdout,
      interactive: !options.json && process.stdout.isTTY === true,
    });
    process.off('SIGINT', onInterrupt);
    const executions: ExecutionRecord[] = [];
    for (const node of final.nodes) {
      const record = node.executionId
        ? await deps.executions.getExecution(node.executionId)
        : null;
      if (record) executions.push(record);
    }
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ run: final, executions }, null, 2)}\n`,
      );
    } else {
      // A task's batch joins are bookkeeping: not shown.
      const shown = final.nodes.filter((node) => !/@\d+$/.test(node.name));
      process.stdout.write(`\n${summarise(shown, executions)}\n`);
      for (const name of await taskNodesOf(deps, final)) {
        const task = await summarizeTask(deps, final, name);
        if (task) {
          process.stdout.write(
            `\n${formatTaskText(task, { children: false })}\n`,
          );
        }
      }
      // Failure first: how each failed step ended and its last lines (the
      // first few: a sweep may have many failed children).
      const failed = executions.filter((item) => item.status === 'error');
      for (const record of failed.slice(0, 3)) {
        const lines = await deps.executions.readLog(record.id, {
          beforeSeq: Number.POSITIVE_INFINITY,
          limit: 15,
        });
        process.stdout.write(
          `\n✗ ${record.node ?? record.step} (#${record.counter}) ${record.endReason ? describeEnd(record.endReason) : 'failed'}\n${lines
            .map((line) => `  ${line.text}`)
            .join('\n')}\n  full log: kiln logs ${record.id}\n`,
        );
      }
      if (failed.length > 3) {
        process.stdout.write(
          `\n${failed.length - 3} more failed: kiln executions --run ${final.id}\n`,
        );
      }
      const reused = final.nodes.filter((node) => node.status === 'reused');
      if (reused.length > 0) {
        process.stdout.write(
          `\nreused unchanged: ${reused.map((node) => node.name).join(', ')}\n`,
        );
      }
      process.stdout.write(
        `\nrun #${final.counter} ${final.status}${final.reason ? ` — ${final.reason}` : ''}\n`,
      );
    }
    // Interrupted runs exit as shells do after SIGINT.
    if (interrupted > 0) return 130;
    return final.status === 'complete' ? 0 : 1;
  } finally {
    await worker.close();
  }
}

function summarise(
  nodes: Array<{
    name: string;
    status: string;
    executionId?: string;
    message?: string;
  }>,
  executions: ExecutionRecord[],
): string {
  const byId = new Map(executions.map((record) => [record.id, record]));
  const rows = nodes.map((node) => {
    const record = node.executionId ? byId.get(node.executionId) : undefined;
    const duration =
      record?.startedAt && record.endedAt
        ? formatDuration(
            Date.parse(record.endedAt) - Date.parse(record.startedAt),
          )
        : '';
    const outputs = record
      ? record.outputs
          .map((file) => `${file.path} (${formatBytes(file.size)})`)
          .join(', ')
      : '';
    return [
      record ? `#${record.counter}` : '',
      node.name,
      node.status,
      duration,
      record ? formatMetrics(record.metrics, 6) : (node.message ?? ''),
      outputs,
    ];
  });
  return formatTable(
    ['exec', 'node', 'status', 'time', 'metrics', 'outputs'],
    rows,
  );
}
