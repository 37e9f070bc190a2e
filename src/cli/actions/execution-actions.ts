/**
 * The inspection commands' work: list, show, logs, outputs of recorded
 * executions (loaded only when one of those commands runs) — from the
 * local store, or with KILN_URL from that kiln: the same output either way.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { saveArtifactCopy } from '../../artifacts/save-artifact-copy.js';
import type { ExecutionRecord } from '../../model/execution.js';
import { describeEnd } from '../../model/end-reason.js';
import {
  formatBytes,
  formatDuration,
  formatMetrics,
  formatTable,
} from '../../model/format-values.js';
import { findExecution, openRecords } from '../open-records.js';
import { openRecordsSource } from '../records-source.js';
import { followExecutionLog } from '../../control/follow-execution-log.js';
import type { LogLine } from '../../model/log-line.js';
import { remoteFromEnv } from '../remote-client.js';
import { remoteLogsAction } from './remote-actions.js';
import { showTasks } from './task-actions.js';

export async function listExecutionsAction(options: {
  repository?: string;
  run?: string;
  limit: string;
  json?: boolean;
}): Promise<void> {
  const source = await openRecordsSource();
  try {
    const records = await source.listExecutions({
      repository: options.repository,
      run: options.run,
      limit: Math.max(1, Math.min(1000, Number(options.limit) || 20)),
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `${formatTable(
        [
          'exec',
          'id',
          'repository',
          'commit',
          'step',
          'status',
          'time',
          'metrics',
        ],
        records.map((record) => [
          `#${record.counter}`,
          record.id,
          record.repository,
          record.commit.slice(0, 12),
          record.node ?? record.step,
          record.status,
          durationOf(record),
          formatMetrics(record.metrics, 4),
        ]),
      )}\n`,
    );
  } finally {
    await source.close();
  }
}

export async function showExecutionAction(
  reference: string,
  options: { json?: boolean; repository?: string },
): Promise<void> {
  const source = await openRecordsSource();
  try {
    // A run id (or RUN/TASK) shows the run's tasks and their children.
    if (await showTasks(source, reference, options)) return;
    const record = await source.getExecution(reference, options.repository);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
      return;
    }
    const lineage = await source.lineage(record.id);
    const lines = [
      `execution #${record.counter}  ${record.id}`,
      `repository  ${record.repository}`,
      `commit      ${record.commit}`,
      `step        ${record.step}${record.node ? ` (run ${record.runId}, node ${record.node})` : ''}`,
      `image       ${record.image}${record.imageDigest ? ` @ ${record.imageDigest}` : ''}`,
      `runtime     ${record.runtime} on ${record.host}${record.worker ? ` (worker ${record.worker})` : ''}`,
      `status      ${record.status}${record.endReason ? ` — ${describeEnd(record.endReason)}` : ''}`,
      `time        ${record.startedAt ?? ''} → ${record.endedAt ?? ''} (${durationOf(record)})`,
      'command',
      ...record.command.map((command) => `  ${command}`),
      'parameters',
      ...Object.entries(record.parameters).map(
        ([key, value]) => `  ${key} = ${JSON.stringify(value)}`,
      ),
      'inputs',
      ...lineage.inputs.map((file) => {
        // The store object it came from (ETag, version): on the record.
        const stored = record.inputs.find(
          (item) => item.input === file.input && item.name === file.name,
        );
        const version = stored?.versionId
          ? `  version ${stored.versionId}`
          : '';
        const etag = stored?.etag ? `  etag ${stored.etag}` : '';
        const from = file.producer
          ? `  (from #${file.producer.counter} ${file.producer.node ?? file.producer.step} ${file.producer.executionId})`
          : '';
        return `  ${file.input}/${file.name}  ${formatBytes(file.size)}  sha256:${file.sha256}  ${file.uri}${version}${etag}${from}`;
      }),
      'outputs',
      ...lineage.outputs.map((file) => {
        const tags =
          record.outputs.find((item) => item.path === file.path)?.tags ?? [];
        const readers = file.consumers
          .map((item) => `#${item.counter} ${item.node ?? item.step}`)
          .join(', ');
        return `  ${file.path}  ${formatBytes(file.size)}  sha256:${file.sha256}  ${file.datum}${tags.length ? `  [${tags.join(', ')}]` : ''}${readers ? `  (read by ${readers})` : ''}`;
      }),
      'metrics',
      ...Object.entries(record.metrics).map(
        ([key, value]) => `  ${key} = ${JSON.stringify(value)}`,
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await source.close();
  }
}

export async function logsAction(
  reference: string,
  options: { follow?: boolean; stream?: string; repository?: string },
): Promise<void> {
  const print = (lines: readonly LogLine[]) => {
    for (const line of lines) {
      if (options.stream && line.stream !== options.stream) continue;
      (line.stream === 'stderr' ? process.stderr : process.stdout).write(
        `${line.text}\n`,
      );
    }
  };
  // With KILN_URL the log comes from that kiln's API (and SSE), not Redis.
  const remote = remoteFromEnv();
  if (remote && options.follow) {
    const source = await openRecordsSource();
    const record = await source.getExecution(reference, options.repository);
    return remoteLogsAction(remote, record.id, options);
  }
  if (!options.follow) {
    const source = await openRecordsSource();
    try {
      const record = await source.getExecution(reference, options.repository);
      await source.readLog(record.id, print);
    } finally {
      await source.close();
    }
    return;
  }
  const engine = await openRecords();
  try {
    const record = await findExecution(engine, reference, options.repository);
    // Followed from the run's event stream: no polling of the record.
    const follow = followExecutionLog(
      { feed: engine.feed, executions: engine.deps.executions },
      { execution: record, afterSeq: -1, onLines: print },
    );
    await follow.done;
  } finally {
    await engine.close();
  }
}

export async function outputsAction(
  reference: string,
  options: { download?: string; json?: boolean; repository?: string },
): Promise<void> {
  const source = await openRecordsSource();
  let record: ExecutionRecord;
  try {
    record = await source.getExecution(reference, options.repository);
  } finally {
    await source.close();
  }
  if (options.download) {
    const root = resolve(options.download);
    const remote = remoteFromEnv();
    const engine = remote ? undefined : await openRecords();
    try {
      for (const file of record.outputs) {
        const target = resolve(join(root, file.path));
        if (!target.startsWith(root + sep)) continue;
        await mkdir(dirname(target), { recursive: true });
        if (remote) {
          await remote.download(
            `/api/executions/${encodeURIComponent(record.id)}/outputs/${file.path
              .split('/')
              .map(encodeURIComponent)
              .join('/')}`,
            target,
          );
        } else {
          // A copy the user owns, never a link into the store.
          await saveArtifactCopy(engine!.deps.artifacts, file.sha256, target);
        }
        process.stdout.write(`${target}\n`);
      }
    } finally {
      await engine?.close();
    }
    return;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(record.outputs, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `${formatTable(
      ['path', 'size', 'sha256', 'datum', 'tags'],
      record.outputs.map((file) => [
        file.path,
        formatBytes(file.size),
        file.sha256.slice(0, 16),
        file.datum,
        file.tags.join(','),
      ]),
    )}\n`,
  );
}

function durationOf(record: ExecutionRecord): string {
  if (!record.startedAt) return '';
  const end = record.endedAt ? Date.parse(record.endedAt) : Date.now();
  return formatDuration(end - Date.parse(record.startedAt));
}
