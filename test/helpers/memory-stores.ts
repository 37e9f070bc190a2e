/**
 * In-memory fakes of the store, queue and stop ports, for unit tests of the
 * control plane's and the worker's decisions without Redis. They keep the
 * ports' contracts that matter to those decisions — compare-and-set on the
 * node's (status, attempt, generation, phase) and the run's status, all or
 * nothing, successors counted down, events appended — and nothing else
 * (no indexes beyond what the tests read). The real thing is tested
 * against redis-server in test/integration/store.
 */
import { createHash } from 'node:crypto';
import type { ControlDeps } from '../../src/control/control-deps.js';
import type { ExecutionRecord } from '../../src/model/execution.js';
import type { LogLine } from '../../src/model/log-line.js';
import type { RunEvent, StoredRunEvent } from '../../src/model/run-event.js';
import type {
  RunNodeState,
  RunRecord,
  RunStatus,
} from '../../src/model/run.js';
import { isTerminalNode } from '../../src/orchestrator/node-machine.js';
import { isFinalRunStatus } from '../../src/orchestrator/run-machine.js';
import type { StepJob, StepQueue } from '../../src/queue/step-jobs.js';
import type {
  ConfigStore,
  DatumRecord,
  ExecutionStore,
  NodeChangeResult,
  RunChangeResult,
  RunStore,
  StopRequest,
} from '../../src/store/index.js';
import { encodeNode } from '../../src/store/encode-node.js';
import type { TaskChildSpec } from '../../src/orchestrator/task/task-children.js';
import type { StopWatcher } from '../../src/store/stop-watcher.js';

interface StoredRun {
  header: Omit<RunRecord, 'nodes'>;
  nodes: Map<string, RunNodeState>;
  waits: Map<string, number>;
  /** Task children's specs, and children per task. */
  specs: Map<string, TaskChildSpec>;
  children: Map<string, number>;
  left: number;
  failed: number;
  stopped: number;
  events: StoredRunEvent[];
}

export interface MemoryStores {
  runs: RunStore;
  executions: ExecutionStore;
  configs: ConfigStore;
  steps: StepQueue & { jobs: Array<{ queue: string; job: StepJob }> };
  stops: StopWatcher & { requests: StopRequest[] };
  logs: Map<string, LogLine[]>;
  /** Every change applied, in order (for checking transitions). */
  changes: Array<{ runId: string; node?: string; from: string; to: string }>;
  deps(): ControlDeps;
}

export function createMemoryStores(): MemoryStores {
  const runs = new Map<string, StoredRun>();
  const executions = new Map<string, ExecutionRecord>();
  const counters = new Map<string, number>();
  const configs = new Map<string, string>();
  const reuse = new Map<string, string>();
  const consumers = new Map<string, string[]>();
  const datums = new Map<string, DatumRecord>();
  const members = new Map<string, Record<string, unknown>>();
  const logs = new Map<string, LogLine[]>();
  const global: StoredRunEvent[] = [];
  const jobs: Array<{ queue: string; job: StepJob }> = [];
  const requests: StopRequest[] = [];
  const watchers = new Map<string, (request: StopRequest) => void>();
  const changes: MemoryStores['changes'] = [];
  let sequence = 0;

  const nextId = () => `${Date.now()}-${sequence++}`;
  const append = (run: StoredRun, event: RunEvent, toGlobal: boolean) => {
    const stored = { id: nextId(), event };
    run.events.push(stored);
    if (toGlobal) global.push(stored);
  };
  const view = (run: StoredRun): RunRecord => ({
    ...structuredClone(run.header),
    nodes: [...run.nodes.values()]
      .map((node) => structuredClone(node))
      .sort((a, b) => a.index - b.index),
  });
  // As the Lua scripts: the whole state, compared in its canonical text.
  const matches = (stored: RunNodeState, want: RunNodeState) =>
    encodeNode(stored) === encodeNode(want);
  const runEvent = (run: StoredRun, at: string): RunEvent => ({
    kind: 'run',
    runId: run.header.id,
    status: run.header.status,
    ...(run.header.reason ? { reason: run.header.reason } : {}),
    repository: run.header.repository,
    ...(run.header.ref ? { ref: run.header.ref } : {}),
    name: run.header.name,
    counter: run.header.counter,
    at,
  });
  const stop = (list: readonly StopRequest[] | undefined) => {
    for (const request of list ?? []) {
      requests.push(request);
      watchers.get(request.executionId)?.(request);
    }
  };
  const nextCounter = (repository: string) => {
    const counter = (counters.get(repository) ?? 0) + 1;
    counters.set(repository, counter);
    return counter;
  };

  const runStore: RunStore = {
    async allocateRunCounter(repository) {
      return nextCounter(`run:${repository}`);
    },
    async createRun(record, init) {
      if (runs.has(record.id)) return false;
      const { nodes, ...header } = structuredClone(record);
      const run: StoredRun = {
        header,
        nodes: new Map(nodes.map((node) => [node.name, node])),
        waits: new Map(Object.entries(init.waits)),
        specs: new Map(),
        children: new Map(),
        left: nodes.filter((node) => !isTerminalNode(node.status)).length,
        failed: 0,
        stopped: 0,
        events: [],
      };
      runs.set(record.id, run);
      append(run, runEvent(run, record.createdAt), true);
      for (const [status, names] of [
        ['queued', init.queued],
        ['skipped', init.skipped],
      ] as const) {
        if (names.length > 0) {
          append(
            run,
            {
              kind: 'nodes',
              runId: record.id,
              status,
              nodes: [...names],
              at: record.createdAt,
            },
            false,
          );
        }
      }
      return true;
    },
    async getRun(id) {
      const run = runs.get(id);
      return run ? view(run) : null;
    },
    async getRunHeader(id) {
      const run = runs.get(id);
      return run ? { ...structuredClone(run.header), nodes: [] } : null;
    },
    async getNodes(runId, names) {
      const run = runs.get(runId);
      return names.map((name) => {
        const node = run?.nodes.get(name);
        return node ? structuredClone(node) : null;
      });
    },
    async expandTask(change) {
      const run = runs.get(change.runId);
      const stored = run?.nodes.get(change.from.name);
      if (!run || !stored) return { code: 'missing' };
      if (change.runIn && !change.runIn.includes(run.header.status)) {
        return {
          code: 'run',
          node: structuredClone(stored),
          status: run.header.status,
        };
      }
      if (
        !matches(stored, change.from) ||
        run.nodes.has(change.join.state.name)
      ) {
        return {
          code: 'moved',
          node: structuredClone(stored),
          status: run.header.status,
        };
      }
      run.nodes.set(stored.name, structuredClone(change.to));
      changes.push({
        runId: change.runId,
        node: stored.name,
        from: stored.status,
        to: change.to.status,
      });
      run.left += change.children.length + 1;
      if (
        isTerminalNode(change.to.status) &&
        !isTerminalNode(change.from.status)
      )
        run.left -= 1;
      for (const child of change.children) {
        run.nodes.set(child.state.name, structuredClone(child.state));
        run.specs.set(child.state.name, structuredClone(child.spec));
      }
      run.nodes.set(change.join.state.name, structuredClone(change.join.state));
      run.waits.set(change.join.state.name, change.join.waits);
      const count =
        (run.children.get(change.task) ?? 0) + change.children.length;
      run.children.set(change.task, count);
      append(
        run,
        {
          kind: 'node',
          runId: change.runId,
          node: change.to.name,
          status: change.to.status,
          attempt: change.to.attempt,
          at: change.at,
        },
        false,
      );
      return {
        code: 'ok',
        status: run.header.status,
        left: run.left,
        children: count,
      };
    },
    async getChildSpecs(runId, names) {
      const run = runs.get(runId);
      return names.map((name) => {
        const spec = run?.specs.get(name);
        return spec ? structuredClone(spec) : null;
      });
    },
    async countTaskChildren(runId, task) {
      return runs.get(runId)?.children.get(task) ?? 0;
    },
    async announceMember(runId, task, memberId, member) {
      members.set(`${runId}/${task}#${memberId}`, structuredClone(member));
    },
    async listMembers(runId, task, memberIds) {
      return memberIds.map((id) => {
        const member = members.get(`${runId}/${task}#${id}`);
        return member ? structuredClone(member) : null;
      });
    },
    async applyNode(change): Promise<NodeChangeResult> {
      const run = runs.get(change.runId);
      const stored = run?.nodes.get(change.from.name);
      if (!run || !stored) return { code: 'missing' };
      if (change.runIn && !change.runIn.includes(run.header.status)) {
        return {
          code: 'run',
          node: structuredClone(stored),
          status: run.header.status,
        };
      }
      if (!matches(stored, change.from)) {
        return {
          code: 'moved',
          node: structuredClone(stored),
          status: run.header.status,
        };
      }
      run.nodes.set(stored.name, structuredClone(change.to));
      changes.push({
        runId: change.runId,
        node: stored.name,
        from: stored.status,
        to: change.to.status,
      });
      if (
        isTerminalNode(change.to.status) &&
        !isTerminalNode(change.from.status)
      )
        run.left -= 1;
      if (change.tally === 'failed') run.failed += 1;
      if (change.tally === 'stopped') run.stopped += 1;
      append(
        run,
        {
          kind: 'node',
          runId: change.runId,
          node: change.to.name,
          status: change.to.status,
          ...(change.to.phase ? { phase: change.to.phase } : {}),
          attempt: change.to.attempt,
          ...(change.to.executionId
            ? { executionId: change.to.executionId }
            : {}),
          ...(change.to.message ? { message: change.to.message } : {}),
          at: change.at,
        },
        false,
      );
      const queued: string[] = [];
      for (const release of change.release ?? []) {
        let ready = true;
        if (release.waits > 1) {
          const left = (run.waits.get(release.name) ?? release.waits) - 1;
          run.waits.set(release.name, left);
          ready = left <= 0;
        }
        const target = run.nodes.get(release.name);
        if (ready && target?.status === 'pending') {
          run.nodes.set(release.name, structuredClone(release.queued));
          changes.push({
            runId: change.runId,
            node: release.name,
            from: 'pending',
            to: 'queued',
          });
          queued.push(release.name);
        }
      }
      const skipped: string[] = [];
      for (const blocked of change.block ?? []) {
        if (run.nodes.get(blocked.name)?.status === 'pending') {
          run.nodes.set(blocked.name, structuredClone(blocked));
          changes.push({
            runId: change.runId,
            node: blocked.name,
            from: 'pending',
            to: 'skipped',
          });
          skipped.push(blocked.name);
          run.left -= 1;
        }
      }
      if (queued.length > 0)
        append(
          run,
          {
            kind: 'nodes',
            runId: change.runId,
            status: 'queued',
            nodes: queued,
            at: change.at,
          },
          false,
        );
      if (skipped.length > 0)
        append(
          run,
          {
            kind: 'nodes',
            runId: change.runId,
            status: 'skipped',
            nodes: skipped,
            at: change.at,
          },
          false,
        );
      if (change.start?.from.includes(run.header.status)) {
        changes.push({
          runId: change.runId,
          from: run.header.status,
          to: change.start.to,
        });
        run.header.status = change.start.to;
        run.header.startedAt = change.at;
        append(run, runEvent(run, change.at), true);
      }
      let counter: number | undefined;
      if (change.createExecution) {
        counter = nextCounter(change.createExecution.repository);
        executions.set(change.createExecution.id, {
          ...structuredClone(change.createExecution),
          counter,
        } as ExecutionRecord);
      } else if (change.updateExecution) {
        const record = executions.get(change.updateExecution.id);
        if (record)
          Object.assign(record, structuredClone(change.updateExecution.patch));
      }
      for (const other of change.closeOthers ?? []) {
        const record = executions.get(other.id);
        if (record) Object.assign(record, structuredClone(other.patch));
      }
      if (change.output) {
        const list = logs.get(change.output.executionId) ?? [];
        list.push(...change.output.lines);
        logs.set(change.output.executionId, list);
      }
      if (change.reuse) reuse.set(change.reuse.key, change.reuse.executionId);
      for (const datum of change.datums ?? []) datums.set(datum.id, datum);
      stop(change.stop);
      return {
        code: 'ok',
        status: run.header.status,
        left: run.left,
        failed: run.failed,
        stopped: run.stopped,
        queued,
        skipped,
        ...(counter !== undefined ? { counter } : {}),
      };
    },
    async applyRun(change): Promise<RunChangeResult> {
      const run = runs.get(change.runId);
      if (!run) return { code: 'missing' };
      if (run.header.status !== change.from)
        return { code: 'moved', status: run.header.status };
      for (const node of change.nodes) {
        const stored = run.nodes.get(node.from.name);
        if (!stored || !matches(stored, node.from)) {
          return { code: 'moved', status: run.header.status };
        }
      }
      for (const node of change.nodes) {
        run.nodes.set(node.to.name, structuredClone(node.to));
        changes.push({
          runId: change.runId,
          node: node.to.name,
          from: node.from.status,
          to: node.to.status,
        });
        if (node.terminal) run.left -= 1;
        if (node.tally === 'failed') run.failed += 1;
        if (node.tally === 'stopped') run.stopped += 1;
      }
      const previous = run.header.status;
      for (const [key, value] of Object.entries(change.run ?? {})) {
        if (value === undefined)
          delete (run.header as Record<string, unknown>)[key];
        else
          (run.header as Record<string, unknown>)[key] = structuredClone(value);
      }
      for (const item of change.executions ?? []) {
        const record = executions.get(item.id);
        if (record) Object.assign(record, structuredClone(item.patch));
      }
      stop(change.stop);
      const byStatus = new Map<string, string[]>();
      for (const node of change.nodes) {
        byStatus.set(node.to.status, [
          ...(byStatus.get(node.to.status) ?? []),
          node.to.name,
        ]);
      }
      for (const [status, names] of byStatus) {
        append(
          run,
          {
            kind: 'nodes',
            runId: change.runId,
            status: status as RunNodeState['status'],
            nodes: names,
            at: change.at,
          },
          false,
        );
      }
      if (run.header.status !== previous) {
        changes.push({
          runId: change.runId,
          from: previous,
          to: run.header.status,
        });
        append(run, runEvent(run, change.at), true);
      }
      return { code: 'ok', status: run.header.status, left: run.left };
    },
    async listRuns(options) {
      return [...runs.values()]
        .filter(
          (run) =>
            options.repository === undefined ||
            run.header.repository === options.repository,
        )
        .filter(
          (run) => options.ref === undefined || run.header.ref === options.ref,
        )
        .filter(
          (run) =>
            options.status === undefined ||
            run.header.status === options.status,
        )
        .filter(
          (run) =>
            options.commit === undefined ||
            run.header.commit === options.commit,
        )
        .reverse()
        .slice(options.offset ?? 0, (options.offset ?? 0) + options.limit)
        .map(view);
    },
    async activeRunsFor(repository, ref, name) {
      return [...runs.values()]
        .filter(
          (run) =>
            run.header.repository === repository &&
            run.header.ref === ref &&
            run.header.name === name,
        )
        .filter((run) => !isFinalRunStatus(run.header.status))
        .reverse()
        .map(view);
    },
    async readRunEvents(runId, options = {}) {
      const events = runs.get(runId)?.events ?? [];
      return after(events, options.after).slice(0, options.count ?? 500);
    },
    async readEvents(options = {}) {
      return after(global, options.after).slice(0, options.count ?? 500);
    },
    async lastEventId(runId) {
      const events =
        runId === undefined ? global : (runs.get(runId)?.events ?? []);
      return events[events.length - 1]?.id ?? '0-0';
    },
  };

  const executionStore: ExecutionStore = {
    async createExecution(record) {
      if (executions.has(record.id)) return false;
      executions.set(record.id, {
        ...structuredClone(record),
        counter: nextCounter(record.repository),
      });
      return true;
    },
    async getExecution(id) {
      const record = executions.get(id);
      return record ? structuredClone(record) : null;
    },
    async getExecutionByCounter(repository, counter) {
      const record = [...executions.values()].find(
        (item) => item.repository === repository && item.counter === counter,
      );
      return record ? structuredClone(record) : null;
    },
    async listExecutions(options) {
      return [...executions.values()]
        .filter(
          (record) =>
            options.repository === undefined ||
            record.repository === options.repository,
        )
        .filter(
          (record) =>
            options.runId === undefined || record.runId === options.runId,
        )
        .map((record) => structuredClone(record));
    },
    async appendOutput(id, output) {
      const list = logs.get(id) ?? [];
      list.push(...(output.lines ?? []));
      logs.set(id, list);
      return output.lines?.length ?? 0;
    },
    async readLog(id, options = {}) {
      return (logs.get(id) ?? []).filter(
        (line) => options.afterSeq === undefined || line.seq > options.afterSeq,
      );
    },
    async readMetrics() {
      return [];
    },
    async readMetricsFrom(_id, from) {
      return { events: [], next: from };
    },
    async recordConsumers(executionId, datumIds) {
      for (const id of datumIds) {
        const list = consumers.get(id) ?? [];
        if (!list.includes(executionId)) list.unshift(executionId);
        consumers.set(id, list);
      }
    },
    async listConsumers(datumId, limit = 200) {
      return (consumers.get(datumId) ?? []).slice(0, limit);
    },
    async registerDatum(datum) {
      datums.set(datum.id, datum);
    },
    async resolveDatum(idOrAlias) {
      return datums.get(idOrAlias) ?? null;
    },
    async findReuse(key) {
      return reuse.get(key) ?? null;
    },
  };

  const configStore: ConfigStore = {
    async store(text) {
      const key = createHash('sha256').update(text).digest('hex');
      configs.set(key, text);
      return key;
    },
    async load(key) {
      return configs.get(key) ?? null;
    },
  };

  const steps = {
    jobs,
    async enqueue(queue: string, list: readonly StepJob[]) {
      for (const job of list) jobs.push({ queue, job: structuredClone(job) });
    },
    async close() {},
  };

  const stops = {
    requests,
    watch(executionId: string, onStop: (request: StopRequest) => void) {
      watchers.set(executionId, onStop);
      return () => {
        if (watchers.get(executionId) === onStop) watchers.delete(executionId);
      };
    },
    close() {
      watchers.clear();
    },
  };

  const stores: MemoryStores = {
    runs: runStore,
    executions: executionStore,
    configs: configStore,
    steps,
    stops,
    logs,
    changes,
    deps() {
      return {
        runs: runStore,
        executions: executionStore,
        configs: configStore,
        steps,
        logger: silentLogger(),
      };
    },
  };
  return stores;
}

function after(
  events: StoredRunEvent[],
  id: string | undefined,
): StoredRunEvent[] {
  if (id === undefined) return [...events];
  const index = events.findIndex((event) => event.id === id);
  return events.slice(index + 1);
}

function silentLogger(): ControlDeps['logger'] {
  const noop = () => undefined;
  const logger = {
    info: noop,
    warn: noop,
    error: noop,
    debug: noop,
    trace: noop,
    fatal: noop,
    child: () => logger,
  };
  return logger as unknown as ControlDeps['logger'];
}

/** The statuses of a run's nodes by name. */
export function statusesOf(run: RunRecord): Record<string, string> {
  return Object.fromEntries(run.nodes.map((node) => [node.name, node.status]));
}

export type { RunStatus };
