/**
 * One model for the CLI's read commands and run actions: the same calls
 * answered by the local store (the Redis `kiln run` and `kiln up` use) or,
 * with KILN_URL, by that kiln's API — the same records either way, so
 * every command prints the same text and the same `--json` wherever the
 * records live. `where` says which one a command used.
 */
import { basename } from 'node:path';
import { approveRun } from '../control/approve-run.js';
import { cancelRun } from '../control/cancel-run.js';
import {
  compareWithBase,
  type RunComparison,
} from '../control/compare-with-base.js';
import { createGitCommitHistory } from '../control/git-commit-history.js';
import { readLineage, type ExecutionLineage } from '../control/read-lineage.js';
import {
  summarizeTask,
  taskNodesOf,
  type TaskSummary,
} from '../control/summarize-task.js';
import type { Engine } from '../engine/create-engine.js';
import { KilnError } from '../errors.js';
import {
  toComparisonJson,
  type ComparisonJson,
} from '../http/comparison-json.js';
import type { ExecutionRecord } from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';
import type { RunRecord, RunStatus } from '../model/run.js';
import { isFinalRunStatus } from '../orchestrator/run-machine.js';
import { describeStore } from './describe-store.js';
import { ExecutionNotFoundError, openRecords } from './open-records.js';
import { remoteFromEnv, type RemoteClient } from './remote-client.js';

export class RecordNotFoundError extends KilnError {
  readonly code = 'RECORD_NOT_FOUND';
}

export interface RunsQuery {
  repository?: string;
  branch?: string;
  state?: RunStatus;
  limit: number;
}

export interface RecordsSource {
  /** `the local store (…)` or the server's URL: said on stderr when useful. */
  where: string;
  remote: boolean;
  listRuns(query: RunsQuery): Promise<RunRecord[]>;
  getRun(id: string): Promise<RunRecord>;
  listExecutions(options: {
    repository?: string;
    run?: string;
    limit: number;
  }): Promise<ExecutionRecord[]>;
  /** An id, or `#N` / `N` (this checkout's counter, or `repository`'s). */
  getExecution(
    reference: string,
    repository?: string,
  ): Promise<ExecutionRecord>;
  /** Every line, in pages. */
  readLog(id: string, onLines: (lines: LogLine[]) => void): Promise<void>;
  comparison(runId: string): Promise<ComparisonJson>;
  lineage(executionId: string): Promise<ExecutionLineage>;
  /**
   * A run and the summaries of its task nodes (only `node`, when given:
   * none when the run has no such task); null when there is no such run.
   */
  runTasks(
    runId: string,
    node?: string,
  ): Promise<{ run: RunRecord; tasks: TaskSummary[] } | null>;
  cancel(runId: string, reason: string): Promise<RunRecord>;
  approve(runId: string, approver: string): Promise<RunRecord>;
  close(): Promise<void>;
}

export async function openRecordsSource(): Promise<RecordsSource> {
  const remote = remoteFromEnv();
  return remote ? remoteSource(remote) : localSource(await openRecords());
}

function localRepository(): string {
  return `local/${basename(process.cwd())}`;
}

export function localSource(engine: Engine): RecordsSource {
  const { runs, executions } = engine.deps;
  const getRun = async (id: string) => {
    const run = await runs.getRun(id);
    if (!run) throw new RecordNotFoundError(`no run ${id} in ${where}`);
    return run;
  };
  const where = describeStore(engine);
  return {
    where,
    remote: false,
    async listRuns(query) {
      const list = await runs.listRuns({
        repository: query.repository,
        ...(query.branch ? { branch: query.branch } : {}),
        status: query.state,
        limit: query.limit,
      });
      return list;
    },
    getRun,
    listExecutions(options) {
      return executions.listExecutions({
        repository: options.repository,
        ...(options.run ? { runId: options.run } : {}),
        limit: Math.max(1, Math.min(1000, options.limit)),
      });
    },
    async getExecution(reference, repository) {
      const counter = /^#?(\d+)$/.exec(reference);
      if (counter) {
        const record = await executions.getExecutionByCounter(
          repository ?? localRepository(),
          Number(counter[1]),
        );
        if (record) return record;
      }
      const record = await executions.getExecution(reference);
      if (!record) throw new ExecutionNotFoundError(reference);
      return record;
    },
    async readLog(id, onLines) {
      let after: number | undefined;
      for (;;) {
        const lines = await executions.readLog(id, {
          afterSeq: after,
          limit: 10_000,
        });
        if (lines.length > 0) onLines(lines);
        if (lines.length < 10_000) return;
        after = lines[lines.length - 1]!.seq;
      }
    },
    async comparison(runId) {
      const run = await getRun(runId);
      const compared: RunComparison = await compareWithBase(
        { ...engine.deps, history: createGitCommitHistory(engine.deps.git) },
        run,
      );
      return toComparisonJson(run, compared);
    },
    async lineage(executionId) {
      const record = await executions.getExecution(executionId);
      if (!record) throw new ExecutionNotFoundError(executionId);
      return readLineage({ executions }, record);
    },
    async runTasks(runId, node) {
      const run = await runs.getRun(runId);
      if (!run) return null;
      const names = node ? [node] : await taskNodesOf(engine.deps, run);
      const tasks: TaskSummary[] = [];
      for (const name of names) {
        const summary = await summarizeTask(engine.deps, run, name);
        if (summary) tasks.push(summary);
      }
      return { run, tasks };
    },
    async cancel(runId, reason) {
      const run = await getRun(runId);
      if (isFinalRunStatus(run.status)) {
        throw new RecordNotFoundError(
          `run ${run.id} already ended (${run.status})`,
        );
      }
      await cancelRun(engine.deps, { runId, reason });
      return getRun(runId);
    },
    async approve(runId, approver) {
      await getRun(runId);
      return approveRun(engine.deps, {
        runId,
        approver,
        isCollaborator: async () => true,
      });
    },
    close: () => engine.close(),
  };
}

export function remoteSource(remote: RemoteClient): RecordsSource {
  const path = encodeURIComponent;
  return {
    where: remote.url,
    remote: true,
    async listRuns(query) {
      const search = new URLSearchParams({ limit: String(query.limit) });
      if (query.repository) search.set('repository', query.repository);
      if (query.branch) search.set('branch', query.branch);
      if (query.state) search.set('state', query.state);
      const { runs } = await remote.get<{ runs: RunRecord[] }>(
        `/api/runs?${search.toString()}`,
      );
      return runs;
    },
    getRun: (id) => remote.get<RunRecord>(`/api/runs/${path(id)}`),
    async listExecutions(options) {
      const search = new URLSearchParams({
        limit: String(Math.max(1, Math.min(1000, options.limit))),
      });
      if (options.repository) search.set('repository', options.repository);
      if (options.run) search.set('run', options.run);
      const { executions } = await remote.get<{
        executions: ExecutionRecord[];
      }>(`/api/executions?${search.toString()}`);
      return executions;
    },
    async getExecution(reference, repository) {
      const counter = /^#?(\d+)$/.exec(reference);
      if (counter) {
        const search = new URLSearchParams({
          repository: repository ?? localRepository(),
          counter: counter[1]!,
        });
        const { executions } = await remote.get<{
          executions: ExecutionRecord[];
        }>(`/api/executions?${search.toString()}`);
        if (executions[0]) return executions[0];
      }
      try {
        return await remote.get<ExecutionRecord>(
          `/api/executions/${path(reference)}`,
        );
      } catch (error) {
        if ((error as { status?: number }).status === 404)
          throw new ExecutionNotFoundError(reference);
        throw error;
      }
    },
    async readLog(id, onLines) {
      let after = -1;
      for (;;) {
        const page = await remote.get<{ lines: LogLine[]; next: number }>(
          `/api/executions/${path(id)}/logs?after=${after}&limit=10000`,
        );
        if (page.lines.length > 0) onLines(page.lines);
        if (page.lines.length < 10_000) return;
        after = page.next;
      }
    },
    comparison: (runId) =>
      remote.get<ComparisonJson>(`/api/runs/${path(runId)}/comparison`),
    lineage: (id) =>
      remote.get<ExecutionLineage>(`/api/executions/${path(id)}/lineage`),
    async runTasks(runId, node) {
      const missing = (error: unknown) => {
        if ((error as { status?: number }).status === 404) return null;
        throw error;
      };
      const run = await remote
        .get<RunRecord>(`/api/runs/${path(runId)}`)
        .catch(missing);
      if (!run) return null;
      const names = node
        ? [node]
        : (
            await remote.get<{ tasks: Array<{ node: string }> }>(
              `/api/runs/${path(runId)}/tasks`,
            )
          ).tasks.map((task) => task.node);
      const tasks: TaskSummary[] = [];
      for (const name of names) {
        const summary = await remote
          .get<TaskSummary>(`/api/runs/${path(runId)}/tasks/${path(name)}`)
          .catch(missing);
        if (summary) tasks.push(summary);
      }
      return { run, tasks };
    },
    cancel: (runId) =>
      remote.post<RunRecord>(`/api/runs/${path(runId)}/cancel`, {}),
    approve: (runId, approver) =>
      remote.post<RunRecord>(`/api/runs/${path(runId)}/approve`, { approver }),
    close: async () => undefined,
  };
}
