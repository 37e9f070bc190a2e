/**
 * What `kiln run` shows while a run goes on. On a terminal: a compact view
 * redrawn in place (each node's state and time, its latest metrics and last
 * log line). Otherwise: plain lines — state changes and every log line
 * prefixed with its node — that read well in CI logs and files.
 */
import type { ExecutionRecord } from '../model/execution.js';
import type { RunRecord } from '../model/run.js';
import type { ExecutionStore, RunStore } from '../store/index.js';
import { isFinalRunStatus } from '../orchestrator/next-run-actions.js';
import { formatMetrics, formatDuration } from './format-values.js';

export interface WatchRunOptions {
  runs: RunStore;
  executions: ExecutionStore;
  runId: string;
  out: NodeJS.WriteStream;
  interactive: boolean;
  intervalMs?: number;
}

const ICONS: Record<string, string> = {
  pending: '·',
  queued: '…',
  started: '▶',
  complete: '✓',
  reused: '↺',
  error: '✗',
  stopped: '■',
  skipped: '-',
};

export async function watchRun(options: WatchRunOptions): Promise<RunRecord> {
  const { runs, executions, runId, out } = options;
  const seen = new Map<string, string>();
  const logSeq = new Map<string, number>();
  const lastLine = new Map<string, string>();
  let drawn = 0;
  for (;;) {
    const run = await runs.getRun(runId);
    if (!run) throw new Error(`run ${runId} disappeared from the store`);
    const records = new Map<string, ExecutionRecord>();
    for (const node of run.nodes) {
      if (!node.executionId) continue;
      const record = await executions.getExecution(node.executionId);
      if (!record) continue;
      records.set(node.name, record);
      const after = logSeq.get(record.id);
      const lines = await executions.readLog(record.id, {
        afterSeq: after,
        limit: 500,
      });
      for (const line of lines) {
        logSeq.set(record.id, line.seq);
        lastLine.set(node.name, line.text);
        if (!options.interactive) out.write(`[${node.name}] ${line.text}\n`);
      }
    }
    if (options.interactive) {
      const view = renderView(run, records, lastLine, out.columns ?? 100);
      if (drawn > 0) out.write(`\x1b[${drawn}A\x1b[0J`);
      out.write(view.join('\n') + '\n');
      drawn = view.length;
    } else {
      for (const node of run.nodes) {
        const key = `${node.status}:${node.attempt}`;
        if (seen.get(node.name) === key) continue;
        seen.set(node.name, key);
        if (node.status === 'pending') continue;
        const record = records.get(node.name);
        const detail = node.message ? ` — ${node.message}` : '';
        const metrics =
          record && Object.keys(record.metrics).length > 0
            ? ` — ${formatMetrics(record.metrics, 4)}`
            : '';
        out.write(`[${node.name}] ${node.status}${detail}${metrics}\n`);
      }
    }
    if (
      isFinalRunStatus(run.status) &&
      run.nodes.every((node) => !['queued', 'started'].includes(node.status))
    ) {
      return run;
    }
    await new Promise((resolve) =>
      setTimeout(resolve, options.intervalMs ?? 300),
    );
  }
}

function renderView(
  run: RunRecord,
  records: Map<string, ExecutionRecord>,
  lastLine: Map<string, string>,
  columns: number,
): string[] {
  const width = Math.max(40, columns - 1);
  const lines = [
    `run #${run.counter} ${run.kind} ${run.name} @ ${run.commit.slice(0, 12)} — ${run.status}`,
  ];
  for (const node of run.nodes) {
    const record = records.get(node.name);
    const since = record?.startedAt ?? node.startedAt;
    const until = record?.endedAt ?? node.endedAt;
    const time = since
      ? formatDuration(
          Date.parse(until ?? new Date().toISOString()) - Date.parse(since),
        )
      : '';
    const metrics = record ? formatMetrics(record.metrics, 3) : '';
    lines.push(
      truncate(
        `  ${ICONS[node.status] ?? '?'} ${node.name.padEnd(16)} ${node.status.padEnd(9)} ${time.padStart(7)}  ${metrics}`,
        width,
      ),
    );
    const tail = lastLine.get(node.name);
    if (tail && node.status === 'started')
      lines.push(truncate(`      ${tail}`, width));
  }
  return lines;
}

function truncate(text: string, width: number): string {
  // eslint-disable-next-line no-control-regex -- terminal safety: strip them
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > width ? `${clean.slice(0, width - 1)}…` : clean;
}
