/**
 * What `kiln run` shows while a run goes on, from the run's event stream
 * (no re-reading of the run): on a terminal, a compact view redrawn in
 * place (each node's state and time, its metrics once done, its last log
 * line); otherwise plain lines — state changes and every log line prefixed
 * with its node — that read well in CI logs and files.
 */
import type { ExecutionRecord } from '../model/execution.js';
import type { RunEvent } from '../model/run-event.js';
import type { RunNodeState, RunRecord } from '../model/run.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';
import type { ExecutionStore, RunEventFeed, RunStore } from '../store/index.js';
import { formatDuration, formatMetrics } from '../model/format-values.js';

export interface WatchRunOptions {
  runs: RunStore;
  executions: ExecutionStore;
  feed: RunEventFeed;
  runId: string;
  out: NodeJS.WriteStream;
  interactive: boolean;
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

/** Resolves with the run as it ended. */
export async function watchRun(options: WatchRunOptions): Promise<RunRecord> {
  const { runs, executions, feed, runId, out } = options;
  const initial = await runs.getRun(runId);
  if (!initial) throw new Error(`run ${runId} is not in the store`);
  let run: RunRecord = initial;
  const nodes = new Map(run.nodes.map((node) => [node.name, { ...node }]));
  const records = new Map<string, ExecutionRecord>();
  const lastLine = new Map<string, string>();
  const following = new Map<
    string,
    { node: string; seq: number; stop: () => void }
  >();
  let drawn = 0;
  let redraw: NodeJS.Timeout | undefined;

  const draw = () => {
    redraw = undefined;
    if (!options.interactive) return;
    const view = renderView(
      run,
      [...nodes.values()],
      records,
      lastLine,
      out.columns ?? 100,
    );
    if (drawn > 0) out.write(`\x1b[${drawn}A\x1b[0J`);
    out.write(view.join('\n') + '\n');
    drawn = view.length;
  };
  const schedule = () => {
    redraw ??= setTimeout(draw, 100);
  };

  const showLines = (
    id: string,
    lines: readonly { seq: number; text: string }[],
  ) => {
    const followed = following.get(id);
    if (!followed) return;
    const name = followed.node;
    for (const line of lines) {
      if (line.seq <= followed.seq) continue;
      followed.seq = line.seq;
      lastLine.set(name, line.text);
      if (!options.interactive) out.write(`[${name}] ${line.text}\n`);
    }
    schedule();
  };
  const followLog = (node: RunNodeState) => {
    const id = node.executionId;
    if (!id || following.has(id)) return;
    const entry: { node: string; seq: number; stop: () => void } = {
      node: node.name,
      seq: -1,
      stop: () => undefined,
    };
    following.set(id, entry);
    entry.stop = feed.followLog(id, -1, (lines) => showLines(id, lines));
  };

  const printChange = (node: RunNodeState) => {
    if (options.interactive || node.status === 'pending') return;
    const record = records.get(node.name);
    const detail = node.message ? ` — ${node.message}` : '';
    const metrics =
      record && Object.keys(record.metrics).length > 0
        ? ` — ${formatMetrics(record.metrics, 4)}`
        : '';
    const phase =
      node.status === 'started' && node.phase ? ` (${node.phase})` : '';
    out.write(`[${node.name}] ${node.status}${phase}${detail}${metrics}\n`);
  };

  const apply = async (event: RunEvent) => {
    if (event.kind === 'run') {
      run = {
        ...run,
        status: event.status,
        ...(event.reason ? { reason: event.reason } : {}),
      };
      return;
    }
    const names = event.kind === 'node' ? [event.node] : event.nodes;
    for (const name of names) {
      const node = nodes.get(name);
      if (!node) continue;
      node.status = event.status;
      if (event.kind === 'node') {
        node.attempt = event.attempt;
        node.phase = event.phase;
        if (event.executionId) node.executionId = event.executionId;
        node.message = event.message;
        if (event.status === 'started' && !node.startedAt)
          node.startedAt = event.at;
      } else if (event.message) {
        node.message = event.message;
      }
      if (!['pending', 'queued', 'started'].includes(node.status)) {
        node.endedAt = event.at;
        if (node.executionId && node.status !== 'skipped') {
          const record = await executions
            .getExecution(node.executionId)
            .catch(() => null);
          if (record) records.set(name, record);
        }
      }
      if (node.status === 'started' && node.phase === 'running')
        followLog(node);
      printChange(node);
    }
  };

  // Events are applied in order, one batch after the other.
  let chain = Promise.resolve();
  const done = new Promise<void>((resolve, reject) => {
    const unfollow = feed.followRun(runId, '0', (stored) => {
      chain = chain
        .then(async () => {
          for (const { event } of stored) await apply(event);
          schedule();
          if (isFinalRunStatus(run.status)) {
            unfollow();
            resolve();
          }
        })
        .catch(reject);
    });
  });
  await done;
  // The steps' last lines were stored with their end: read what is left.
  for (const [id, entry] of following) {
    entry.stop();
    showLines(
      id,
      await executions.readLog(id, { afterSeq: entry.seq, limit: 10_000 }),
    );
  }
  if (redraw) clearTimeout(redraw);
  draw();
  return (await runs.getRun(runId)) ?? run;
}

function renderView(
  run: RunRecord,
  nodes: RunNodeState[],
  records: Map<string, ExecutionRecord>,
  lastLine: Map<string, string>,
  columns: number,
): string[] {
  const width = Math.max(40, columns - 1);
  const lines = [
    `run #${run.counter} ${run.kind} ${run.name} @ ${run.commit.slice(0, 12)} — ${run.status}`,
  ];
  for (const node of nodes) {
    const record = records.get(node.name);
    const since = record?.startedAt ?? node.startedAt;
    const until = record?.endedAt ?? node.endedAt;
    const time = since
      ? formatDuration(
          Date.parse(until ?? new Date().toISOString()) - Date.parse(since),
        )
      : '';
    const metrics = record ? formatMetrics(record.metrics, 3) : '';
    const state =
      node.status === 'started' && node.phase && node.phase !== 'running'
        ? node.phase
        : node.status;
    lines.push(
      truncate(
        `  ${ICONS[node.status] ?? '?'} ${node.name.padEnd(16)} ${state.padEnd(9)} ${time.padStart(7)}  ${metrics}`,
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
