/**
 * The inspection commands for recorded executions: `kiln executions`,
 * `kiln show ID`, `kiln logs ID [-f]`, `kiln outputs ID [--download DIR]`.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import type { ExecutionRecord } from '../../model/execution.js';
import { formatBytes, formatDuration, formatMetrics, formatTable } from '../format-values.js';
import { findExecution, openRecords } from '../open-records.js';
import { describeEnd } from '../../worker/run-container.js';

export function registerExecutionCommands(program: Command): void {
  program
    .command('executions')
    .description('list recorded executions, newest first')
    .option('--repository <name>', 'only this repository (e.g. local/my-project or acme/models)')
    .option('--run <id>', 'only executions of this run')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'print the records as JSON')
    .action(async (options: { repository?: string; run?: string; limit: string; json?: boolean }) => {
      const engine = await openRecords();
      try {
        const records = await engine.deps.executions.listExecutions({
          repository: options.repository,
          runId: options.run,
          limit: Math.max(1, Math.min(1000, Number(options.limit) || 20)),
        });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${formatTable(
            ['exec', 'id', 'repository', 'commit', 'step', 'status', 'time', 'metrics'],
            records.map((record) => [
              `#${record.counter}`,
              record.id,
              record.repository,
              record.commit.slice(0, 12),
              record.step,
              record.status,
              durationOf(record),
              formatMetrics(record.metrics, 4),
            ]),
          )}\n`,
        );
      } finally {
        await engine.close();
      }
    });

  program
    .command('show')
    .description('everything recorded about one execution')
    .argument('<id>', 'execution id, or #N for this repository')
    .option('--json', 'print the record as JSON')
    .action(async (reference: string, options: { json?: boolean }) => {
      const engine = await openRecords();
      try {
        const record = await findExecution(engine, reference);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
          return;
        }
        const lines = [
          `execution #${record.counter}  ${record.id}`,
          `repository  ${record.repository}`,
          `commit      ${record.commit}`,
          `step        ${record.step}${record.node ? ` (run ${record.runId}, node ${record.node})` : ''}`,
          `image       ${record.image}${record.imageDigest ? ` @ ${record.imageDigest}` : ''}`,
          `runtime     ${record.runtime} on ${record.host}`,
          `status      ${record.status}${record.endReason ? ` — ${describeEnd(record.endReason)}` : ''}`,
          `time        ${record.startedAt ?? ''} → ${record.endedAt ?? ''} (${durationOf(record)})`,
          'command',
          ...record.command.map((command) => `  ${command}`),
          'parameters',
          ...Object.entries(record.parameters).map(([key, value]) => `  ${key} = ${JSON.stringify(value)}`),
          'inputs',
          ...record.inputs.map((file) => `  ${file.input}/${file.name}  ${formatBytes(file.size)}  sha256:${file.sha256}  ${file.uri}`),
          'outputs',
          ...record.outputs.map((file) => `  ${file.path}  ${formatBytes(file.size)}  sha256:${file.sha256}  ${file.datum}${file.tags.length ? `  [${file.tags.join(', ')}]` : ''}`),
          'metrics',
          ...Object.entries(record.metrics).map(([key, value]) => `  ${key} = ${JSON.stringify(value)}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await engine.close();
      }
    });

  program
    .command('logs')
    .description("print an execution's log")
    .argument('<id>', 'execution id, or #N for this repository')
    .option('-f, --follow', 'keep printing new lines until the execution ends')
    .option('--stream <name>', 'only stdout or stderr')
    .action(async (reference: string, options: { follow?: boolean; stream?: string }) => {
      const engine = await openRecords();
      try {
        const record = await findExecution(engine, reference);
        let after: number | undefined;
        for (;;) {
          const lines = await engine.deps.executions.readLog(record.id, { afterSeq: after, limit: 1000 });
          for (const line of lines) {
            after = line.seq;
            if (options.stream && line.stream !== options.stream) continue;
            (line.stream === 'stderr' ? process.stderr : process.stdout).write(`${line.text}\n`);
          }
          if (lines.length === 1000) continue;
          if (!options.follow) break;
          const current = await engine.deps.executions.getExecution(record.id);
          if (!current || ['complete', 'error', 'stopped'].includes(current.status)) {
            const rest = await engine.deps.executions.readLog(record.id, { afterSeq: after, limit: 100_000 });
            for (const line of rest) process.stdout.write(`${line.text}\n`);
            break;
          }
          await new Promise((done) => setTimeout(done, 500));
        }
      } finally {
        await engine.close();
      }
    });

  program
    .command('outputs')
    .description("list an execution's outputs, or download them")
    .argument('<id>', 'execution id, or #N for this repository')
    .option('--download <dir>', 'copy the output files into this folder')
    .option('--json', 'print the output records as JSON')
    .action(async (reference: string, options: { download?: string; json?: boolean }) => {
      const engine = await openRecords();
      try {
        const record = await findExecution(engine, reference);
        if (options.download) {
          const root = resolve(options.download);
          for (const file of record.outputs) {
            const target = resolve(join(root, file.path));
            if (!target.startsWith(root + sep)) continue;
            await mkdir(dirname(target), { recursive: true });
            await engine.deps.artifacts.copyTo(file.sha256, target);
            process.stdout.write(`${target}\n`);
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
            record.outputs.map((file) => [file.path, formatBytes(file.size), file.sha256.slice(0, 16), file.datum, file.tags.join(',')]),
          )}\n`,
        );
      } finally {
        await engine.close();
      }
    });
}

function durationOf(record: ExecutionRecord): string {
  if (!record.startedAt) return '';
  const end = record.endedAt ? Date.parse(record.endedAt) : Date.now();
  return formatDuration(end - Date.parse(record.startedAt));
}
