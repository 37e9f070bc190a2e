/** The work of `kiln submit`, `status`, `compare` and remote `logs -f`. */
import type { ExecutionRecord } from '../../model/execution.js';
import type { LogLine } from '../../model/log-line.js';
import type { RunRecord } from '../../model/run.js';
import { formatTable, formatValue } from '../../model/format-values.js';
import { parseParamPairs } from '../parse-param-pairs.js';
import { remoteFromEnv, type RemoteClient } from '../remote-client.js';

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
  },
): Promise<void> {
  const remote = requireRemote();
  const run = await remote.post<RunRecord>('/api/runs', {
    repository: options.repository,
    name,
    parameters: parseParamPairs(options.param),
    ...(options.commit ? { commit: options.commit } : { ref: options.ref }),
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `run ${run.id} (#${run.counter}) ${run.status} at ${run.commit.slice(0, 12)}\n  ${remote.url}/runs/${run.id}\n`,
  );
}

export async function statusAction(
  runId: string | undefined,
  options: { repository?: string; json?: boolean },
): Promise<void> {
  const remote = requireRemote();
  if (!runId) {
    const query = new URLSearchParams({
      limit: '20',
      ...(options.repository ? { repository: options.repository } : {}),
    });
    const { runs } = await remote.get<{ runs: RunRecord[] }>(
      `/api/runs?${query.toString()}`,
    );
    if (options.json) {
      process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `${formatTable(
        ['id', 'repository', 'ref', 'commit', 'name', 'status', 'created'],
        runs.map((run) => [
          run.id,
          run.repository,
          run.ref ?? '',
          run.commit.slice(0, 12),
          run.name,
          run.status,
          run.createdAt,
        ]),
      )}\n`,
    );
    return;
  }
  const run = await remote.get<RunRecord>(
    `/api/runs/${encodeURIComponent(runId)}`,
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `run ${run.id} (#${run.counter}) ${run.kind} ${run.name}: ${run.status}${run.reason ? ` — ${run.reason}` : ''}\n` +
      `${run.repository} ${run.ref ?? ''} ${run.commit}\n` +
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
}

export async function compareAction(ids: string[]): Promise<void> {
  const remote = requireRemote();
  const records: ExecutionRecord[] = [];
  for (const id of ids) {
    const path = encodeURIComponent(id);
    const execution = await remote
      .get<ExecutionRecord>(`/api/executions/${path}`)
      .catch(() => null);
    if (execution) {
      records.push(execution);
      continue;
    }
    const { executions } = await remote.get<{ executions: ExecutionRecord[] }>(
      `/api/runs/${path}/executions`,
    );
    records.push(...executions.reverse());
  }
  process.stdout.write(`${formatComparison(records)}\n`);
}

/** Parameters then final metrics, one column per execution; `*` marks a difference. */
export function formatComparison(records: readonly ExecutionRecord[]): string {
  const header = [
    '',
    ...records.map(
      (record) =>
        `#${record.counter} ${record.node ?? record.step}@${record.commit.slice(0, 7)}`,
    ),
  ];
  const rows: string[][] = [];
  const section = (
    title: string,
    pick: (record: ExecutionRecord) => Record<string, unknown>,
  ) => {
    const names = [
      ...new Set(records.flatMap((record) => Object.keys(pick(record)))),
    ];
    for (const name of names) {
      const values = records.map((record) =>
        formatValue(pick(record)[name] ?? ''),
      );
      const marker = new Set(values).size > 1 ? '*' : ' ';
      rows.push([`${marker}${title}${name}`, ...values]);
    }
  };
  section('', (record) => record.parameters);
  section('metric:', (record) => record.metrics);
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
