/**
 * What the Compare page shows, by its query:
 * - `?e=ID&e=ID…` executions side by side (any commits);
 * - `?r=RUN&r=RUN…` runs: two are aligned node by node; any number make a
 *   table of their parameters and metrics (sortable) and a
 *   parallel-coordinates view; `?repository=&name=&branch=` picks the
 *   newest runs of a pipeline instead of ids;
 * - nothing: recent runs and executions to pick from.
 */
import {
  effectiveParameters,
  loadNodeExecutions,
} from '../control/compare-with-base.js';
import type { ServerDeps } from '../http/server-deps.js';
import type { ExecutionRecord, MetricsEvent } from '../model/execution.js';
import type { RunRecord } from '../model/run.js';

export interface CompareRun {
  run: RunRecord;
  executions: ExecutionRecord[];
  parameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

export type CompareView =
  | {
      kind: 'executions';
      items: Array<{ record: ExecutionRecord; events: MetricsEvent[] }>;
    }
  | {
      kind: 'runs';
      runs: CompareRun[];
      /** Metric events per execution (for the aligned curves of two runs). */
      events: Map<string, MetricsEvent[]>;
      title: string;
    }
  | {
      kind: 'pick';
      runs: RunRecord[];
      executions: ExecutionRecord[];
    };

const idPattern = /^[A-Za-z0-9._-]{1,128}$/;
const MAX_RUNS = 100;

export async function loadCompareView(
  deps: ServerDeps,
  query: Record<string, unknown>,
): Promise<CompareView> {
  const { runs, executions } = deps.control;
  const list = (value: unknown) =>
    (Array.isArray(value) ? value : [value]).filter(
      (item): item is string =>
        typeof item === 'string' && idPattern.test(item),
    );
  const executionIds = list(query.e).slice(0, 20);
  if (executionIds.length > 0) {
    const records = await Promise.all(
      executionIds.map((id) => executions.getExecution(id)),
    );
    const items = await Promise.all(
      records
        .filter((record) => record !== null)
        .map(async (record) => ({
          record,
          events: await executions.readMetrics(record.id),
        })),
    );
    return { kind: 'executions', items };
  }
  const text = (value: unknown) =>
    typeof value === 'string' && value.length <= 256 && value
      ? value
      : undefined;
  let picked: RunRecord[] = [];
  let title = 'Runs';
  const runIds = list(query.r).slice(0, MAX_RUNS);
  if (runIds.length > 0) {
    picked = (await Promise.all(runIds.map((id) => runs.getRun(id)))).filter(
      (run) => run !== null,
    );
  } else if (text(query.name)) {
    const name = text(query.name)!;
    const branch = text(query.branch);
    const found = await runs.listRuns({
      repository: text(query.repository),
      ...(branch ? { branch } : {}),
      limit: 1000,
    });
    picked = found.filter((run) => run.name === name).slice(0, MAX_RUNS);
    title = `Newest runs of ${name}${branch ? ` on ${branch}` : ''}`;
  }
  if (picked.length > 0) {
    const compared = await Promise.all(
      picked.map(async (run): Promise<CompareRun> => {
        const records = await loadNodeExecutions(executions, run);
        return {
          run,
          executions: records,
          parameters: effectiveParameters(run, records),
          metrics: allMetrics(run, records),
        };
      }),
    );
    const events = new Map<string, MetricsEvent[]>();
    if (compared.length === 2) {
      for (const item of compared) {
        for (const record of item.executions) {
          events.set(record.id, await executions.readMetrics(record.id));
        }
      }
    }
    return { kind: 'runs', runs: compared, events, title };
  }
  const [recentRuns, recentExecutions] = await Promise.all([
    runs.listRuns({ limit: 30 }),
    executions.listExecutions({ limit: 30 }),
  ]);
  return { kind: 'pick', runs: recentRuns, executions: recentExecutions };
}

/** Final metrics of every node, in graph order (a later node's value wins). */
function allMetrics(
  run: RunRecord,
  records: readonly ExecutionRecord[],
): Record<string, unknown> {
  const byId = new Map(records.map((record) => [record.id, record]));
  const merged: Record<string, unknown> = {};
  for (const node of run.nodes) {
    const record = node.executionId ? byId.get(node.executionId) : undefined;
    if (record) Object.assign(merged, record.metrics);
  }
  return merged;
}
