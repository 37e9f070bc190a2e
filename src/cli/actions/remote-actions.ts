/**
 * The work of `kiln submit` (remote), `status` and `compare` (the local
 * store, or KILN_URL's kiln: the same output either way) and remote
 * `logs -f`.
 */
import { formatDelta, formatMetric } from '../../metrics/compare-metrics.js';
import { describeEnd } from '../../model/end-reason.js';
import type { ExecutionRecord } from '../../model/execution.js';
import type { LogLine } from '../../model/log-line.js';
import type { RunEvent } from '../../model/run-event.js';
import type { RunRecord } from '../../model/run.js';
import { formatTable, formatValue } from '../../model/format-values.js';
import { parseParamPairs } from '../parse-param-pairs.js';
import { openRecordsSource, type RecordsSource } from '../records-source.js';
import { remoteFromEnv, type RemoteClient } from '../remote-client.js';
import { describeEvent } from './events-action.js';

function requireRemote(): RemoteClient {
  const remote = remoteFromEnv();
  if (!remote) {
    throw new Error(
      'set KILN_URL (and KILN_TOKEN) to the kiln server to talk to, e.g. KILN_URL=https://kiln.example.com',
    );
  }
  return remote;
}

export async function submitAction(
  name: string,
  options: {
    repository: string;
    ref: string;
    commit?: string;
    param: string[];
    json?: boolean;
    follow?: boolean;
  },
): Promise<number> {
  const remote = requireRemote();
  const run = await remote.post<RunRecord>('/api/runs', {
    repository: options.repository,
    name,
    parameters: parseParamPairs(options.param),
    ...(options.commit ? { commit: options.commit } : { ref: options.ref }),
  });
  if (!options.follow) {
    if (options.json) {
      process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(
      `run ${run.id} (#${run.counter}) ${run.status} at ${run.commit.slice(0, 12)}\n  ${remote.url}/runs/${run.id}\n`,
    );
    return 0;
  }
  process.stderr.write(
    `kiln: run ${run.id} (#${run.counter}) at ${run.commit.slice(0, 12)} — ${remote.url}/runs/${run.id}\n`,
  );
  return followRemoteRun(remote, run.id, options);
}

/**
 * Follows a run on a remote kiln until it ends: its state changes as they
 * happen (the run's event stream), then the run and, for failed steps, how
 * they ended and their last lines. Exit code 0 only for a complete run.
 */
export async function followRemoteRun(
  remote: RemoteClient,
  runId: string,
  options: { json?: boolean },
): Promise<number> {
  const out = options.json ? process.stderr : process.stdout;
  await remote.followEvents(
    `/api/runs/${encodeURIComponent(runId)}/events`,
    '0',
    (event, data) => {
      if (event === 'message') return;
      out.write(`${describeEvent(JSON.parse(data) as RunEvent)}\n`);
    },
  );
  const final = await remote.get<RunRecord>(
    `/api/runs/${encodeURIComponent(runId)}`,
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
  } else {
    for (const node of final.nodes.filter((item) => item.status === 'error')) {
      if (!node.executionId) continue;
      const execution = await remote.get<ExecutionRecord>(
        `/api/executions/${encodeURIComponent(node.executionId)}`,
      );
      const { lines } = await remote.get<{ lines: LogLine[] }>(
        `/api/executions/${encodeURIComponent(node.executionId)}/logs?tail=true&limit=15`,
      );
      process.stdout.write(
        `\n✗ ${node.name} (#${execution.counter}) ${execution.endReason ? describeEnd(execution.endReason) : (node.message ?? 'failed')}\n${lines.map((line) => `  ${line.text}`).join('\n')}\n  full log: kiln logs ${node.executionId}\n`,
      );
    }
    process.stdout.write(
      `\nrun #${final.counter} ${final.status}${final.reason ? ` — ${final.reason}` : ''}\n  ${remote.url}/runs/${final.id}\n`,
    );
  }
  return final.status === 'complete' ? 0 : 1;
}

export async function statusAction(
  runId: string | undefined,
  options: { repository?: string; branch?: string; json?: boolean },
): Promise<void> {
  const source = await openRecordsSource();
  try {
    if (!runId) {
      const runs = await source.listRuns({
        repository: options.repository,
        branch: options.branch,
        limit: 20,
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${formatTable(
          [
            'id',
            'run',
            'name',
            'status',
            'steps',
            'branch',
            'commit',
            'created',
          ],
          runs.map((run) => [
            run.id,
            `#${run.counter}`,
            run.name,
            run.status,
            stepsDone(run),
            branchOf(run),
            run.commit.slice(0, 12),
            run.createdAt,
          ]),
        )}\n`,
      );
      return;
    }
    const run = await source.getRun(runId);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `run ${run.id} (#${run.counter}) ${run.kind} ${run.name}: ${run.status}${run.reason ? ` — ${run.reason}` : ''}\n` +
        `${run.repository} ${run.ref ?? ''} ${run.commit}${run.trigger?.rerunOf ? `\nre-run of ${run.trigger.rerunOf}${run.trigger.reuse ? ' (reusing unchanged steps)' : ''}` : ''}\n` +
        `${formatTable(
          ['node', 'status', 'execution', 'message'],
          run.nodes.map((node) => [
            node.name,
            node.status,
            node.executionId ?? '',
            node.message ?? '',
          ]),
        )}\n`,
    );
  } finally {
    await source.close();
  }
}

function stepsDone(run: RunRecord): string {
  const done = run.nodes.filter(
    (node) => node.status === 'complete' || node.status === 'reused',
  ).length;
  return `${done}/${run.nodes.length}`;
}

function branchOf(run: RunRecord): string {
  if (run.trigger?.pullRequest && run.trigger.headRef)
    return `${run.trigger.headRef} (PR #${run.trigger.pullRequest})`;
  return (run.ref ?? '').replace(/^refs\/(heads|tags)\//, '');
}

export interface CompareJson {
  columns: Array<{
    id: string;
    label: string;
    runId?: string;
    node?: string;
  }>;
  rows: Array<{
    kind: 'parameter' | 'metric';
    node?: string;
    name: string;
    values: unknown[];
    differs: boolean;
  }>;
}

/**
 * `kiln compare IDS…`: executions side by side, or runs aligned node by
 * node (a row per node and parameter or metric); `--base RUN` compares a
 * run with its base as the pull-request comment does.
 */
export async function compareAction(
  ids: string[],
  options: { json?: boolean; base?: boolean },
): Promise<void> {
  const source = await openRecordsSource();
  try {
    if (options.base) {
      const comparisons = [];
      for (const id of ids) comparisons.push(await source.comparison(id));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(comparisons, null, 2)}\n`);
        return;
      }
      for (const item of comparisons) {
        process.stdout.write(
          `run ${item.runId} against ${item.base.runId ? `${item.base.label} run ${item.base.runId} (${(item.base.commit ?? '').slice(0, 7)})` : `${item.base.label}: no baseline`} — ${item.status.description}\n${formatTable(
            ['metric', 'base', 'this run', 'Δ', 'verdict'],
            item.comparisons.map((row) => [
              row.name,
              formatMetric(row.base),
              formatMetric(row.head),
              row.delta === undefined ? '' : formatDelta(row.delta),
              `${row.verdict}${row.regression ? ' (beyond allowed)' : ''}`,
            ]),
          )}\n`,
        );
        if (item.differingParameters.length > 0) {
          process.stdout.write(
            `${formatTable(
              ['parameter', 'base', 'this run'],
              item.differingParameters.map((row) => [
                row.name,
                formatValue(row.base ?? ''),
                formatValue(row.head ?? ''),
              ]),
            )}\n`,
          );
        }
      }
      return;
    }
    const comparison = await buildComparison(source, ids);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(comparison, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${formatComparison(comparison)}\n`);
  } finally {
    await source.close();
  }
}

/** Executions as given; runs expand to their nodes, aligned by node name. */
async function buildComparison(
  source: RecordsSource,
  ids: string[],
): Promise<CompareJson> {
  const columns: CompareJson['columns'] = [];
  const records: Array<Map<string, ExecutionRecord>> = [];
  for (const id of ids) {
    const execution = await source.getExecution(id).catch(() => null);
    if (execution) {
      columns.push({
        id: execution.id,
        label: `#${execution.counter} ${execution.node ?? execution.step}@${execution.commit.slice(0, 7)}`,
      });
      records.push(new Map([['', execution]]));
      continue;
    }
    const run = await source.getRun(id);
    const byNode = new Map<string, ExecutionRecord>();
    for (const node of run.nodes) {
      if (!node.executionId) continue;
      const record = await source
        .getExecution(node.executionId)
        .catch(() => null);
      if (record) byNode.set(node.name, record);
    }
    columns.push({
      id: run.id,
      label: `run #${run.counter}@${run.commit.slice(0, 7)}`,
      runId: run.id,
    });
    records.push(byNode);
  }
  const runsOnly = columns.every((column) => column.runId);
  const nodes = runsOnly
    ? [...new Set(records.flatMap((map) => [...map.keys()]))]
    : [''];
  const rows: CompareJson['rows'] = [];
  for (const node of nodes) {
    const pick = (map: Map<string, ExecutionRecord>) =>
      runsOnly ? map.get(node) : [...map.values()][0];
    for (const kind of ['parameter', 'metric'] as const) {
      const field = kind === 'parameter' ? 'parameters' : 'metrics';
      const names = [
        ...new Set(
          records.flatMap((map) => Object.keys(pick(map)?.[field] ?? {})),
        ),
      ];
      for (const name of names) {
        const values = records.map((map) => {
          const record = pick(map);
          return record && Object.hasOwn(record[field], name)
            ? record[field][name]
            : null;
        });
        // Only values present on both sides can differ.
        const present = values.filter((value) => value !== null);
        const differs =
          new Set(present.map((value) => JSON.stringify(value))).size > 1;
        rows.push({
          kind,
          ...(runsOnly ? { node } : {}),
          name,
          values,
          differs,
        });
      }
    }
  }
  return { columns, rows };
}

/** Parameters then final metrics, one column per execution or run; `*` marks a difference. */
export function formatComparison(comparison: CompareJson): string {
  const header = ['', ...comparison.columns.map((column) => column.label)];
  const rows = comparison.rows.map((row) => [
    `${row.differs ? '*' : ' '}${row.node ? `${row.node}.` : ''}${row.kind === 'metric' ? 'metric:' : ''}${row.name}`,
    ...row.values.map((value) => (value === null ? '—' : formatValue(value))),
  ]);
  return formatTable(header, rows);
}

/** `kiln logs ID -f` against KILN_URL: the API's SSE stream. */
export async function remoteLogsAction(
  remote: RemoteClient,
  reference: string,
  options: { follow?: boolean; stream?: string },
): Promise<void> {
  const print = (line: LogLine) => {
    if (options.stream && line.stream !== options.stream) return;
    (line.stream === 'stderr' ? process.stderr : process.stdout).write(
      `${line.text}\n`,
    );
  };
  const id = encodeURIComponent(reference);
  if (options.follow) {
    const status = await remote.followLogs(reference, print);
    if (status !== 'complete') process.exitCode = 1;
    return;
  }
  let after = -1;
  for (;;) {
    const page = await remote.get<{ lines: LogLine[]; next: number }>(
      `/api/executions/${id}/logs?after=${after}&limit=10000`,
    );
    page.lines.forEach(print);
    if (page.lines.length < 10_000) return;
    after = page.next;
  }
}
